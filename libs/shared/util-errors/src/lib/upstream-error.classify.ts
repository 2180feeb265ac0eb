import { ErrorCode } from './error-code';
import { GatewayException } from './gateway.exception';

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  cause?: unknown;
}

/** Socket and timeout error codes (undici's and Node's) and what each means for the client. */
const UPSTREAM_ERROR_TABLE: Readonly<Record<string, { code: ErrorCode; reason: string }>> = {
  UND_ERR_CONNECT_TIMEOUT: { code: ErrorCode.UpstreamTimeout, reason: 'did not accept a connection in time' },
  UND_ERR_HEADERS_TIMEOUT: { code: ErrorCode.UpstreamTimeout, reason: 'did not answer in time' },
  UND_ERR_BODY_TIMEOUT: { code: ErrorCode.UpstreamTimeout, reason: 'stopped sending data' },
  ETIMEDOUT: { code: ErrorCode.UpstreamTimeout, reason: 'did not answer in time' },
  ECONNABORTED: { code: ErrorCode.UpstreamTimeout, reason: 'did not answer in time' },
  ECONNREFUSED: { code: ErrorCode.UpstreamUnavailable, reason: 'refused the connection' },
  ENOTFOUND: { code: ErrorCode.UpstreamUnavailable, reason: 'could not be resolved' },
  EAI_AGAIN: { code: ErrorCode.UpstreamUnavailable, reason: 'could not be resolved' },
  EHOSTUNREACH: { code: ErrorCode.UpstreamUnavailable, reason: 'is unreachable' },
  ENETUNREACH: { code: ErrorCode.UpstreamUnavailable, reason: 'is unreachable' },
  ECONNRESET: { code: ErrorCode.UpstreamConnectionReset, reason: 'reset the connection' },
  EPIPE: { code: ErrorCode.UpstreamConnectionReset, reason: 'closed the connection' },
  UND_ERR_SOCKET: { code: ErrorCode.UpstreamConnectionReset, reason: 'closed the connection' },
  UND_ERR_CLOSED: { code: ErrorCode.UpstreamConnectionReset, reason: 'closed the connection' },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { code: ErrorCode.UpstreamBadResponse, reason: 'sent a truncated body' },
  UND_ERR_INFO: { code: ErrorCode.UpstreamBadResponse, reason: 'sent an invalid response' },
  HPE_INVALID_CONSTANT: { code: ErrorCode.UpstreamBadResponse, reason: 'sent an invalid response' },
  // The egress proxy (HTTPS_PROXY / ALL_PROXY) refused or botched the tunnel; its own reason stays in `cause`.
  ERR_EGRESS_PROXY_REFUSED: {
    code: ErrorCode.UpstreamBadResponse,
    reason: 'could not be reached through the egress proxy',
  },
};

function findKnownCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 3) {
    return undefined;
  }
  const candidate = error as ErrorLike;
  if (typeof candidate.code === 'string' && candidate.code in UPSTREAM_ERROR_TABLE) {
    return candidate.code;
  }
  return findKnownCode(candidate.cause, depth + 1);
}

/**
 * Turns an HTTP client error into a GatewayException that names the upstream and says what happened,
 * without any part of the request (headers, URL query) that could carry a credential.
 */
export function classifyUpstreamError(error: unknown, upstreamName: string): GatewayException {
  if (error instanceof GatewayException) {
    return error;
  }
  const known = findKnownCode(error);
  const entry = known === undefined ? undefined : UPSTREAM_ERROR_TABLE[known];
  if (entry === undefined) {
    return new GatewayException(ErrorCode.UpstreamBadResponse, `Upstream ${upstreamName} failed`, { cause: error });
  }
  return new GatewayException(entry.code, `Upstream ${upstreamName} ${entry.reason}`, { cause: error });
}
