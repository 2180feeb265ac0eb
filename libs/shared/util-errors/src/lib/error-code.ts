/** Every failure the gateway reports has one of these codes; the wire `code` is the enum value. */
export enum ErrorCode {
  InvalidRequest = 'invalid_request',
  MissingCredentials = 'missing_credentials',
  InvalidApiKey = 'invalid_api_key',
  PermissionDenied = 'permission_denied',
  NotFound = 'not_found',
  MethodNotAllowed = 'method_not_allowed',
  PayloadTooLarge = 'payload_too_large',
  RateLimited = 'rate_limit_exceeded',
  /** Team mode: the gateway key may not use the model it asked for. */
  ModelNotAllowed = 'model_not_allowed',
  /** Team mode: no route knows the model. */
  ModelNotFound = 'model_not_found',
  /** Team mode: the gateway key's USD budget is spent. */
  InsufficientQuota = 'insufficient_quota',
  /** Team mode: the provider refused the key the gateway holds for it (the gateway key itself was fine). */
  ProviderKeyRefused = 'provider_key_refused',
  UpstreamTimeout = 'upstream_timeout',
  UpstreamUnavailable = 'upstream_unavailable',
  UpstreamConnectionReset = 'upstream_connection_reset',
  UpstreamBadResponse = 'upstream_bad_response',
  UpstreamServerError = 'upstream_server_error',
  UpstreamOverloaded = 'upstream_overloaded',
  ShuttingDown = 'server_shutting_down',
  /** The service holds as much as it may for the moment (chunked uploads being received); retry shortly. */
  ServerBusy = 'server_busy',
  Internal = 'internal_error',
}

export interface ErrorCodeDescription {
  status: number;
  type: string;
}

/** Status and OpenAI error type for each code. Exhaustive: a new code that is not mapped does not compile. */
export function describeErrorCode(code: ErrorCode): ErrorCodeDescription {
  switch (code) {
    case ErrorCode.InvalidRequest:
      return { status: 400, type: 'invalid_request_error' };
    case ErrorCode.MissingCredentials:
      return { status: 401, type: 'authentication_error' };
    case ErrorCode.InvalidApiKey:
      return { status: 401, type: 'authentication_error' };
    case ErrorCode.PermissionDenied:
      return { status: 403, type: 'permission_error' };
    case ErrorCode.NotFound:
      return { status: 404, type: 'invalid_request_error' };
    case ErrorCode.MethodNotAllowed:
      return { status: 405, type: 'invalid_request_error' };
    case ErrorCode.PayloadTooLarge:
      return { status: 413, type: 'invalid_request_error' };
    case ErrorCode.RateLimited:
      return { status: 429, type: 'rate_limit_exceeded' };
    case ErrorCode.ModelNotAllowed:
      return { status: 403, type: 'permission_error' };
    case ErrorCode.ModelNotFound:
      return { status: 404, type: 'invalid_request_error' };
    case ErrorCode.InsufficientQuota:
      return { status: 429, type: 'insufficient_quota' };
    case ErrorCode.ProviderKeyRefused:
      return { status: 502, type: 'server_error' };
    case ErrorCode.UpstreamTimeout:
      return { status: 504, type: 'timeout_error' };
    case ErrorCode.UpstreamUnavailable:
      return { status: 503, type: 'server_error' };
    case ErrorCode.UpstreamConnectionReset:
      return { status: 502, type: 'server_error' };
    case ErrorCode.UpstreamBadResponse:
      return { status: 502, type: 'server_error' };
    case ErrorCode.UpstreamServerError:
      return { status: 500, type: 'server_error' };
    case ErrorCode.UpstreamOverloaded:
      return { status: 503, type: 'server_error' };
    case ErrorCode.ShuttingDown:
      return { status: 503, type: 'server_error' };
    case ErrorCode.ServerBusy:
      return { status: 503, type: 'server_error' };
    case ErrorCode.Internal:
      return { status: 500, type: 'server_error' };
  }
}

/** The code for a provider's HTTP error status (529, Anthropic's "overloaded", reads as 503). */
export function errorCodeForUpstreamStatus(status: number | undefined): ErrorCode {
  switch (status ?? 0) {
    case 400:
      return ErrorCode.InvalidRequest;
    case 401:
      return ErrorCode.InvalidApiKey;
    case 403:
      return ErrorCode.PermissionDenied;
    case 404:
      return ErrorCode.NotFound;
    case 413:
      return ErrorCode.PayloadTooLarge;
    case 429:
      return ErrorCode.RateLimited;
    case 503:
    case 529:
      return ErrorCode.UpstreamOverloaded;
    case 504:
      return ErrorCode.UpstreamTimeout;
    default:
      return ErrorCode.UpstreamServerError;
  }
}
