import { buildForwardedRequestHeaders, buildForwardedResponseHeaders } from './forwarding';

const forwarded = { clientAddresses: ['203.0.113.7'], protocol: 'https', host: 'proxy.example' };

describe('buildForwardedRequestHeaders', () => {
  const incoming = {
    host: 'proxy.example',
    authorization: 'Bearer sk-test',
    'content-type': 'application/json',
    'content-length': '42',
    'openai-organization': 'org-1',
    'openai-beta': 'assistants=v2',
    'x-new-provider-header': 'kept',
    connection: 'keep-alive, x-hop-custom',
    'x-hop-custom': 'dropped because Connection names it',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    te: 'trailers',
    upgrade: 'h2c',
    expect: '100-continue',
    'proxy-authorization': 'Basic abc',
    cookie: 'sessionKey=secret',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-host': 'evil.example',
    forwarded: 'for=6.6.6.6',
    'x-openai-proxy-internal': 'spoofed',
    'x-request-id': 'req-1',
  };

  it('should keep every end-to-end header, including ones it has never heard of', () => {
    const result = buildForwardedRequestHeaders(incoming, forwarded, { dropCookie: true });
    expect(result).toMatchObject({
      authorization: 'Bearer sk-test',
      'content-type': 'application/json',
      'content-length': '42',
      'openai-organization': 'org-1',
      'openai-beta': 'assistants=v2',
      'x-new-provider-header': 'kept',
      'x-request-id': 'req-1',
    });
  });

  it('should drop hop-by-hop headers, those named in Connection, Host, proxy credentials and internal headers', () => {
    const result = buildForwardedRequestHeaders(incoming, forwarded, { dropCookie: true });
    for (const name of [
      'host',
      'connection',
      'x-hop-custom',
      'keep-alive',
      'transfer-encoding',
      'te',
      'upgrade',
      'expect',
      'proxy-authorization',
      'x-openai-proxy-internal',
      'forwarded',
    ]) {
      expect(result).not.toHaveProperty(name);
    }
  });

  it('should replace client-sent X-Forwarded-* with what we saw', () => {
    const result = buildForwardedRequestHeaders(incoming, forwarded, { dropCookie: true });
    expect(result['x-forwarded-for']).toBe('203.0.113.7');
    expect(result['x-forwarded-host']).toBe('proxy.example');
    expect(result['x-forwarded-proto']).toBe('https');
  });

  it('should drop Cookie for providers and keep it on the internal hop', () => {
    expect(buildForwardedRequestHeaders(incoming, forwarded, { dropCookie: true })).not.toHaveProperty('cookie');
    expect(buildForwardedRequestHeaders(incoming, forwarded, { dropCookie: false }).cookie).toBe('sessionKey=secret');
  });

  it('should drop the request header prefixes the policy names, such as the WebSocket handshake ws writes', () => {
    const handshake = { ...incoming, 'sec-websocket-key': 'k', 'sec-websocket-protocol': 'p', 'x-kept': 'yes' };
    const result = buildForwardedRequestHeaders(handshake, forwarded, {
      dropCookie: true,
      dropPrefixes: ['sec-websocket-'],
    });
    expect(result).not.toHaveProperty('sec-websocket-key');
    expect(result).not.toHaveProperty('sec-websocket-protocol');
    expect(result).toMatchObject({ 'x-kept': 'yes', authorization: 'Bearer sk-test' });
  });

  it('should drop the request headers the policy names exactly, and keep those that only start with a name', () => {
    const sent = { ...incoming, 'x-api-key': 'sk-ant-x', 'x-api-key-id': 'kept' };
    const result = buildForwardedRequestHeaders(sent, forwarded, {
      dropCookie: true,
      dropNames: new Set(['authorization', 'x-api-key']),
    });
    expect(result).not.toHaveProperty('authorization');
    expect(result).not.toHaveProperty('x-api-key');
    expect(result['x-api-key-id']).toBe('kept');
  });
});

describe('buildForwardedResponseHeaders', () => {
  const upstream = {
    'content-type': 'application/json',
    'content-length': '10',
    'content-encoding': 'gzip',
    'openai-processing-ms': '12',
    'retry-after': '7',
    'set-cookie': ['__cf_bm=abc'],
    connection: 'keep-alive',
    'transfer-encoding': 'chunked',
    'access-control-allow-origin': '*',
  };

  it('should keep end-to-end headers, body framing that still describes the body, and Retry-After', () => {
    expect(buildForwardedResponseHeaders(upstream)).toEqual({
      'content-type': 'application/json',
      'content-length': '10',
      'content-encoding': 'gzip',
      'openai-processing-ms': '12',
      'retry-after': '7',
      'access-control-allow-origin': '*',
    });
  });

  it('should drop the prefixes the edge sets itself', () => {
    expect(buildForwardedResponseHeaders(upstream, { dropPrefixes: ['access-control-'] })).not.toHaveProperty(
      'access-control-allow-origin',
    );
  });

  it.each([
    ['no-cache', 'no-cache'],
    ['no-cache, must-revalidate, as OpenAI sends', 'no-cache, must-revalidate'],
    ['no Cache-Control', undefined],
  ])(
    'should send an event stream with Cache-Control no-cache, no-transform whatever the upstream said (%s)',
    (_, sent) => {
      const stream = {
        'content-type': 'text/event-stream; charset=utf-8',
        ...(sent === undefined ? {} : { 'cache-control': sent }),
      };
      expect(buildForwardedResponseHeaders(stream)).toEqual({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
      });
    },
  );

  it('should keep the Cache-Control of a body that is not an event stream', () => {
    expect(
      buildForwardedResponseHeaders({ 'content-type': 'application/json', 'cache-control': 'max-age=60' }),
    ).toEqual({
      'content-type': 'application/json',
      'cache-control': 'max-age=60',
    });
  });
});
