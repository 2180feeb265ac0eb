import OpenAI from 'openai';

/** The admin token the team tests start gateways with; a canary: it must never appear in a log line. */
export const ADMIN_TOKEN = 'admin-token-canary-5f1c9a7e3d2b';

/** An answer as a test reads it: its status, its JSON body, its headers. */
export interface JsonAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** One call to a gateway: `token` as `Authorization: Bearer` (none when null), `body` as JSON. */
export async function callJson(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; rawBody?: string } = {},
): Promise<JsonAnswer> {
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const answer = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await answer.text();
  return {
    status: answer.status,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    headers: answer.headers,
  };
}

/** The error envelope's fields a test compares. */
export function errorOf(answer: JsonAnswer): { status: number; code: unknown; param: unknown; message: unknown } {
  const error = (answer.body as { error?: { code?: unknown; param?: unknown; message?: unknown } } | undefined)?.error;
  return { status: answer.status, code: error?.code, param: error?.param, message: error?.message };
}

/** An OpenAI client on the gateway's team endpoint (`/v1`) with a gateway key. */
export function teamClient(gatewayUrl: string, key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: `${gatewayUrl}/v1`, maxRetries: 0, timeout: 10_000 });
}

/**
 * Polls `read` until `done` holds of its answer, at most `attempts` times `intervalMs` apart; the last answer.
 * Ledger rows are recorded as an answer ends, so a read just after the client got its answer may not see them yet.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { attempts = 40, intervalMs = 50 }: { attempts?: number; intervalMs?: number } = {},
): Promise<T> {
  let value = await read();
  for (let attempt = 1; attempt < attempts && !done(value); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}
