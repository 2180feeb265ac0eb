import { PassThrough } from 'node:stream';
import type { RecordedRequest } from './fake-upstream';

/** The headers a provider credential travels in, as the credential tests compare them. */
export const CREDENTIAL_HEADER_NAMES = ['authorization', 'x-api-key', 'x-goog-api-key', 'anthropic-beta'];

/** The credential headers `arrived` carried (undefined where absent), keyed by name. */
export function credentialHeaders(
  arrived: RecordedRequest | undefined,
  names: readonly string[] = CREDENTIAL_HEADER_NAMES,
): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, arrived?.headers[name]]));
}

/** A log destination for a service under test, and what was written to it so far. */
export interface CapturedLog {
  destination: PassThrough;
  text(): string;
}

export function captureLog(): CapturedLog {
  const pieces: string[] = [];
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) => pieces.push(chunk.toString('utf8')));
  return { destination, text: () => pieces.join('') };
}

/** One call of a credential canary: method, path (a query allowed) and an optional body. */
export type CanaryCall = [method: string, path: string, body: string | undefined];

/** Sends each call in turn with `headers` (plus a JSON content type); resolves with their statuses. */
export async function sendCanaryCalls(
  baseUrl: string,
  headers: Record<string, string>,
  calls: readonly CanaryCall[],
): Promise<number[]> {
  const statuses: number[] = [];
  for (const [method, path, body] of calls) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    statuses.push(response.status);
    await response.arrayBuffer();
  }
  return statuses;
}

/** What a canary log shows: whether the header name was logged, the call paths not logged, the secrets found. */
export interface CanaryLogReport {
  headerLogged: boolean;
  unloggedPaths: string[];
  leakedSecrets: string[];
}

/**
 * Reads a debug log after `calls`: request headers are logged with their values redacted, so `loggedHeader`
 * must appear (proof that a leak would show) while none of `secrets` may.
 */
export function canaryLogReport(
  log: string,
  loggedHeader: string,
  calls: readonly CanaryCall[],
  secrets: readonly string[],
): CanaryLogReport {
  return {
    headerLogged: log.includes(`"${loggedHeader}"`),
    unloggedPaths: calls.map(([, path]) => path.split('?')[0] ?? path).filter((path) => !log.includes(path)),
    leakedSecrets: secrets.filter((secret) => log.includes(secret)),
  };
}
