import { isAnthropicApiKey, isGoogleApiKey, readBearerToken, readCookie } from './credentials';
import { REDACTED, looksLikeCredential, redactHeaders, redactText } from './redaction';

describe('redactText', () => {
  it.each([
    ['Authorization: Bearer abc.def-123', 'abc.def-123'],
    ['key sk-proj-AbCdEf123456 leaked', 'sk-proj-AbCdEf123456'],
    ['session sess-AbCdEf123456', 'sess-AbCdEf123456'],
    ['claude sk-ant-sid01-AbCd_ef-123', 'sk-ant-sid01-AbCd_ef-123'],
    ['Cookie: __Secure-1PSID=g.a000xyz; __Secure-1PSIDTS=sidts-abc', 'g.a000xyz'],
    ['GET /v1beta/models?key=AIzaSyA-1234567890abcdef&alt=sse', 'AIzaSyA-1234567890abcdef'],
    ['sessionKey=sk-ant-sid01-zzz', 'sk-ant-sid01-zzz'],
    ['gateway key gk-team-0123456789', 'gk-team-0123456789'],
    ['/x?auth=Bearer%20sk-proj-Zz9912345', 'sk-proj-Zz9912345'],
    ['/x?k=sk%2Dproj%2DYy8812345', 'Yy8812345'],
    ['/v1beta/models?x-goog-api-key=secretvalue123', 'secretvalue123'],
    ['https://user:hunter2@proxy.example:8080', 'hunter2'],
    ['ALL_PROXY=socks5://clash:s0cks-pass@127.0.0.1:7890', 's0cks-pass'],
    ['socks5h://clash:p%40ss%3Aword@127.0.0.1:7890', 'p%40ss%3Aword'],
    ['Authorization: Basic dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy'],
    ['/x?token=abc123secret&y=1', 'abc123secret'],
    ['/x?token=%22quoted123secret%22', 'quoted123secret'],
    ["/x?api_key='single123secret'", 'single123secret'],
    ['/x?token=abc%26split456secret', 'split456secret'],
    ['/x?password=hunter2hunter2', 'hunter2hunter2'],
    ['/oauth?client_secret=cs-991xyz&refresh_token=rt-12345abc', 'cs-991xyz'],
    ['/oauth?client_secret=cs-991xyz&refresh_token=rt-12345abc', 'rt-12345abc'],
    ['/v1/models?x-api-key=xak123secret', 'xak123secret'],
    ['/v1/models;key=semi123secret', 'semi123secret'],
    ['/v1/models;jsessionid=abc;api_key=matrix123secret', 'matrix123secret'],
    ['/v1/models?user_token=ut123secret', 'ut123secret'],
    ['/v1/models?a=1&bearer=br123secret', 'br123secret'],
    ['/v1/models?X-Auth-Token=xat123secret', 'xat123secret'],
  ])('should remove the credential from %p', (text, secret) => {
    const redacted = redactText(text);
    expect(redacted).not.toContain(secret);
    expect(redacted).toContain(REDACTED);
  });

  it('should keep the key= parameter name and other parameters', () => {
    expect(redactText('/x?key=abc123&alt=sse')).toBe(`/x?key=${REDACTED}&alt=sse`);
  });

  it('should leave ordinary text alone', () => {
    expect(redactText('POST /openai/v1/chat/completions 200')).toBe('POST /openai/v1/chat/completions 200');
    expect(redactText('/v1/models?max_tokens=5&monkey=1&tokens=2')).toBe('/v1/models?max_tokens=5&monkey=1&tokens=2');
    expect(redactText('task-force desk-lamp risk-free')).toBe('task-force desk-lamp risk-free');
  });
});

describe('redactHeaders', () => {
  it('should redact credential headers by name and other values by pattern', () => {
    expect(
      redactHeaders({
        authorization: 'Basic dXNlcjpwYXNz',
        'x-api-key': 'anything',
        'x-goog-api-key': 'anything',
        cookie: 'a=b',
        'x-custom': 'token sk-abcdef123',
        accept: 'application/json',
      }),
    ).toEqual({
      authorization: REDACTED,
      'x-api-key': REDACTED,
      'x-goog-api-key': REDACTED,
      cookie: REDACTED,
      'x-custom': `token ${REDACTED}`,
      accept: 'application/json',
    });
  });

  it.each(['api-key', 'x-auth-token', 'X-Access-Token', 'x-amz-security-token', 'x-client-secret', 'x-session-key'])(
    'should redact the %p header by its name',
    (name) => {
      expect(redactHeaders({ [name]: 'plain-value-123' })).toEqual({ [name]: REDACTED });
    },
  );

  it('should redact a configured secret header by its name when no known name or pattern covers it', () => {
    const headers = { 'Ocp-Apim-Subscription-Key': '5f0c3a9e1b7d4e2a8c6f0b3d9e1a7c4f', 'x-key': 'a1b2c3d4e5f6' };
    expect(redactHeaders(headers)).toEqual(headers);
    expect(redactHeaders(headers, new Set(['ocp-apim-subscription-key', 'x-key']))).toEqual({
      'Ocp-Apim-Subscription-Key': REDACTED,
      'x-key': REDACTED,
    });
  });

  it('should keep headers that only mention tokens in their name', () => {
    const headers = { 'x-ratelimit-remaining-tokens': '100', 'anthropic-ratelimit-tokens-limit': '9' };
    expect(redactHeaders(headers)).toEqual(headers);
  });
});

describe(looksLikeCredential.name, () => {
  it.each(['sk-proj-abc123', 'sess-abc123', 'gk-team-abc123', 'AIzaSyA-1234567890', 'x.sk-ant-oat01-abc'])(
    'should recognise %p',
    (text) => {
      expect(looksLikeCredential(text)).toBe(true);
    },
  );

  it.each(['2b1c9d5e-6f0a-4b7e-9c1d-3e5f7a9b1c2d', 'req_123', 'task-force', 'trace:abc.def'])(
    'should not flag %p',
    (text) => {
      expect(looksLikeCredential(text)).toBe(false);
    },
  );
});

describe('credentials', () => {
  it('should tell API keys from OAuth tokens', () => {
    expect(isAnthropicApiKey('sk-ant-api03-abc')).toBe(true);
    expect(isAnthropicApiKey('sk-ant-oat01-abc')).toBe(false);
    expect(isGoogleApiKey('AIzaSyA-123')).toBe(true);
    expect(isGoogleApiKey('ya29.a0abc')).toBe(false);
  });

  it('should read bearer tokens and cookies', () => {
    expect(readBearerToken({ authorization: 'Bearer sk-1' })).toBe('sk-1');
    expect(readBearerToken({ authorization: 'Basic x' })).toBeUndefined();
    expect(readCookie({ cookie: '__Secure-1PSID=a.b=c; __Secure-1PSIDTS=d' }, '__Secure-1PSID')).toBe('a.b=c');
    expect(readCookie({ cookie: '__Secure-1PSID=a;__Secure-1PSIDTS=d' }, '__Secure-1PSIDTS')).toBe('d');
    expect(readCookie({}, 'x')).toBeUndefined();
  });
});
