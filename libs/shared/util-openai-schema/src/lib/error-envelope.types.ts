/** OpenAI's error `type` values that this gateway emits. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_exceeded'
  | 'server_error'
  | 'api_error'
  | 'timeout_error';

/** The body of OpenAI's error envelope: `param` and `code` are always present (null when none). */
export interface OpenAiErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** `{"error":{"message","type","param","code"}}`, the shape every OpenAI client parses. */
export interface OpenAiErrorEnvelope {
  error: OpenAiErrorBody;
}

export function createOpenAiErrorEnvelope(
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
): OpenAiErrorEnvelope {
  return { error: { message, type, param, code } };
}
