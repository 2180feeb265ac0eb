import { ErrorCode } from '@openai-proxy/util-errors';
import { claudeWebError, missingSessionKey } from './claude-web.errors';

describe('claudeWebError', () => {
  it('should keep claude.ai status and message, and its Retry-After', () => {
    const error = claudeWebError(429, { error: { type: 'rate_limit_error', message: 'Too many' } }, '30');
    expect(error).toMatchObject({ code: ErrorCode.RateLimited, message: 'Too many', headers: { 'retry-after': '30' } });
    expect(error.status).toBe(429);
  });

  it.each([
    ['no body', undefined],
    ['an HTML page', '<html>Just a moment</html>'],
    ['an error without a text message', { error: { message: 5 } }],
  ])('should name the status when the refusal has %s', (_label, body) => {
    const error = claudeWebError(403, body, undefined);
    expect(error).toMatchObject({ code: ErrorCode.PermissionDenied, message: 'claude.ai answered 403', headers: {} });
  });

  it('should redact a credential claude.ai echoes in its message', () => {
    const error = claudeWebError(
      401,
      { error: { message: 'Bad key sk-ant-sid01-abcdefghijklmnopqrstuvwxyz' } },
      undefined,
    );
    expect(error.code).toBe(ErrorCode.InvalidApiKey);
    expect(error.message).not.toContain('abcdefghijklmnopqrstuvwxyz');
  });
});

describe('missingSessionKey', () => {
  it.each([
    ['cookie', 'Cookie: sessionKey=<key>'],
    ['bearer', 'Authorization: Bearer <sessionKey>'],
  ] as const)('should answer 401 saying where the key goes for %s', (where, hint) => {
    const error = missingSessionKey(where);
    expect(error.status).toBe(401);
    expect(error.code).toBe(ErrorCode.MissingCredentials);
    expect(error.message).toContain(hint);
  });
});
