import { ErrorCode, describeErrorCode, errorCodeForUpstreamStatus } from './error-code';
import { GatewayException } from './gateway.exception';
import { classifyUpstreamError } from './upstream-error.classify';

describe('describeErrorCode', () => {
  it('should map every code to an HTTP error status and a type', () => {
    for (const code of Object.values(ErrorCode)) {
      const description = describeErrorCode(code);
      expect(description.status).toBeGreaterThanOrEqual(400);
      expect(description.type.length).toBeGreaterThan(0);
    }
  });
});

describe('errorCodeForUpstreamStatus', () => {
  it.each([
    [400, ErrorCode.InvalidRequest],
    [401, ErrorCode.InvalidApiKey],
    [403, ErrorCode.PermissionDenied],
    [404, ErrorCode.NotFound],
    [413, ErrorCode.PayloadTooLarge],
    [429, ErrorCode.RateLimited],
    [503, ErrorCode.UpstreamOverloaded],
    [529, ErrorCode.UpstreamOverloaded],
    [504, ErrorCode.UpstreamTimeout],
    [500, ErrorCode.UpstreamServerError],
    [418, ErrorCode.UpstreamServerError],
    [undefined, ErrorCode.UpstreamServerError],
  ])('should map upstream status %p to %s', (status, code) => {
    expect(errorCodeForUpstreamStatus(status)).toBe(code);
  });
});

describe(GatewayException.name, () => {
  it('should render the OpenAI envelope with param and code always present', () => {
    const exception = new GatewayException(ErrorCode.InvalidRequest, 'messages is required', { param: 'messages' });
    expect(exception.status).toBe(400);
    expect(exception.toEnvelope()).toEqual({
      error: {
        message: 'messages is required',
        type: 'invalid_request_error',
        param: 'messages',
        code: 'invalid_request',
      },
    });
    expect(new GatewayException(ErrorCode.Internal, 'x').toEnvelope().error.param).toBeNull();
  });
});

describe('classifyUpstreamError', () => {
  function withCode(code: string): Error {
    return Object.assign(new Error(`boom with Authorization: Bearer sk-secret`), { code });
  }

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 504, ErrorCode.UpstreamTimeout],
    ['UND_ERR_HEADERS_TIMEOUT', 504, ErrorCode.UpstreamTimeout],
    ['ECONNREFUSED', 503, ErrorCode.UpstreamUnavailable],
    ['ENOTFOUND', 503, ErrorCode.UpstreamUnavailable],
    ['ECONNRESET', 502, ErrorCode.UpstreamConnectionReset],
    ['UND_ERR_SOCKET', 502, ErrorCode.UpstreamConnectionReset],
  ])('should classify %s as %i', (code, status, errorCode) => {
    const exception = classifyUpstreamError(withCode(code), 'openai');
    expect(exception.status).toBe(status);
    expect(exception.code).toBe(errorCode);
    expect(exception.message).toContain('openai');
    expect(exception.message).not.toContain('sk-secret');
  });

  it('should find a code on a nested cause', () => {
    const error = new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') });
    expect(classifyUpstreamError(error, 'x').code).toBe(ErrorCode.UpstreamUnavailable);
  });

  it('should call anything unknown a bad upstream response (502)', () => {
    expect(classifyUpstreamError(new Error('weird'), 'x').status).toBe(502);
  });
});
