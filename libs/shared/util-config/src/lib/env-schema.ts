import { z } from 'zod';

export type Environment = Readonly<Record<string, string | undefined>>;

/** A TCP port; 0 asks the OS for a free one (tests). */
export const portSchema = z.coerce.number().int().min(0).max(65535);

/** A whole, non-negative number of milliseconds or bytes. */
export const wholeNumberSchema = z.coerce.number().int().min(0);

/** `true`/`false`/`1`/`0`/`yes`/`no`, in upper or lower case. */
export const booleanSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * Whether an http(s) URL is only an origin and a path: no login, query or fragment, which a relay target would
 * drop (it keeps the origin and the path), so that they are refused rather than lost.
 */
function isOriginAndPath(value: string): boolean {
  if (!URL.canParse(value)) {
    return true;
  }
  const url = new URL(value);
  return url.username === '' && url.password === '' && !value.includes('?') && !value.includes('#');
}

/** An http(s) base URL (an origin and a path, nothing else), without a trailing slash. */
export const baseUrlSchema = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/ }))
  .refine(
    isOriginAndPath,
    "must be an origin and a path only: no login, query or fragment (the config file's `query` sets parameters)",
  )
  .transform((value) => value.replace(/\/+$/, ''));

const PROXY_URL_PROBLEM = 'must be an http://, https://, socks5:// or socks5h:// proxy URL';
const PROXY_LOGIN_PROBLEM = 'percent-encode the login (a % is written %25)';

/** Whether the URL's user and password percent-decode (a bare `%` does not); an unparsable URL is not judged here. */
function hasDecodableLogin(value: string): boolean {
  if (!URL.canParse(value)) {
    return true;
  }
  const { username, password } = new URL(value);
  try {
    decodeURIComponent(username);
    decodeURIComponent(password);
    return true;
  } catch {
    return false;
  }
}

/**
 * An egress proxy URL (`HTTPS_PROXY`, `ALL_PROXY`): HTTP CONNECT (`http`, `https`) or SOCKS5 (`socks5`,
 * `socks5h`), with a host, optionally `user:password@` (percent-encoded, as the tunnel decodes it). The
 * messages name the rule, never the value (it may hold a password).
 */
export const proxyUrlSchema = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^(?:https?|socks5h?)$/, error: PROXY_URL_PROBLEM }))
  .refine((value) => URL.canParse(value) && new URL(value).hostname !== '', { error: PROXY_URL_PROBLEM })
  .refine(hasDecodableLogin, { error: PROXY_LOGIN_PROBLEM });

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const MIB = 1024 * 1024;

/** Variables every app reads (the README's configuration table lists them). */
export const commonEnvShape = {
  UPSTREAM_CONNECT_TIMEOUT_MS: wholeNumberSchema.default(10_000),
  UPSTREAM_HEADERS_TIMEOUT_MS: wholeNumberSchema.default(120_000),
  UPSTREAM_IDLE_TIMEOUT_MS: wholeNumberSchema.default(120_000),
  STREAM_HEARTBEAT_MS: wholeNumberSchema.default(15_000),
  SHUTDOWN_DRAIN_MS: wholeNumberSchema.default(25_000),
  MAX_JSON_BODY_BYTES: wholeNumberSchema.default(32 * MIB),
  MAX_RELAY_BODY_BYTES: wholeNumberSchema.default(512 * MIB),
  MAX_SPOOL_BYTES: wholeNumberSchema
    .default(1024 * MIB)
    .describe(
      'All request bodies without a Content-Length (chunked uploads) one service holds at once while it reads them ' +
        'to their end before the upstream call, in memory and in temporary files; past it such an upload gets 503 ' +
        'with Retry-After (413 when it alone is larger)',
    ),
  UPSTREAM_RETRIES: wholeNumberSchema
    .default(2)
    .describe(
      'Retries of one upstream call at most, before anything went to the client: on a connection error, and on a ' +
        "provider's 429 or 5xx (never 400, 401, 403, 404, 413, never a headers timeout); 0 turns retries off",
    ),
  UPSTREAM_RETRY_BUDGET_PERCENT: wholeNumberSchema
    .max(100)
    .default(20)
    .describe(
      'Retries to one upstream over the last 10 s may be at most this share of its first attempts (plus 3), so a ' +
        'failing upstream is not hammered',
    ),
  UPSTREAM_BREAKER_FAILURES: wholeNumberSchema
    .default(5)
    .describe(
      'Failures in a row (connection errors, timeouts before the headers, a provider 5xx) that open the circuit of ' +
        'an upstream: its calls then fail at once with 503; 0 turns the breakers off',
    ),
  UPSTREAM_BREAKER_OPEN_MS: wholeNumberSchema
    .min(1)
    .default(10_000)
    .describe('How long an open circuit stays open before one call probes the upstream again'),
  /** The egress proxy; ALL_PROXY when HTTPS_PROXY is unset (toPlatformSettings). */
  HTTPS_PROXY: proxyUrlSchema.optional(),
  ALL_PROXY: proxyUrlSchema.optional(),
  NO_PROXY: z.string().optional(),
  LOG_LEVEL: logLevelSchema.default('info'),
  TRUST_PROXY: z.string().trim().optional(),
};

/** Lower-case spellings of the egress variables, as many tools set them. */
export const PROXY_ALIASES: Readonly<Record<string, readonly string[]>> = {
  HTTPS_PROXY: ['https_proxy'],
  ALL_PROXY: ['all_proxy'],
  NO_PROXY: ['no_proxy'],
};

/** Thrown at start when the environment is invalid; lists every bad variable at once. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Copies the first set alias into each canonical name that is unset (`API_BASE` → `OPENAI_API_BASE`). */
export function applyAliases(env: Environment, aliases: Readonly<Record<string, readonly string[]>>): Environment {
  const result: Record<string, string | undefined> = { ...env };
  for (const [name, alternatives] of Object.entries(aliases)) {
    if (result[name] === undefined || result[name] === '') {
      const found = alternatives.find((alias) => env[alias] !== undefined && env[alias] !== '');
      if (found !== undefined) {
        result[name] = env[found];
      }
    }
  }
  return result;
}

/** Empty strings count as unset, so `FOO=` in an env file means "use the default". */
function withoutEmptyValues(env: Environment): Environment {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}

/** Validates the environment against a schema; throws ConfigValidationError naming every bad variable. */
export function parseEnvironment<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Environment,
): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(withoutEmptyValues(env));
  if (!result.success) {
    throw new ConfigValidationError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}
