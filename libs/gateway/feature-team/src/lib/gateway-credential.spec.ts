import fc from 'fast-check';
import { newGatewayKey } from '@openai-proxy/gateway-util-team';
import { readRequestCredential, withoutQueryKey } from './gateway-credential';

const KEY = newGatewayKey();

describe(readRequestCredential.name, () => {
  it.each([
    ['Authorization: Bearer', { authorization: `Bearer ${KEY}` }, '/v1/chat/completions'],
    ['x-api-key (Anthropic SDKs)', { 'x-api-key': KEY }, '/anthropic/v1/messages'],
    ['x-goog-api-key (Gemini SDKs)', { 'x-goog-api-key': KEY }, '/gemini/v1beta/models'],
    ['api-key (Azure)', { 'api-key': KEY }, '/azure/v1/chat/completions'],
  ])('should find a gateway key in %s and have the gateway attach its provider key', (_where, headers, url) => {
    expect(readRequestCredential(headers, url)).toEqual({ kind: 'gateway', key: KEY, use: 'attach' });
  });

  it('should find a gateway key in ?key= and in a configured key header', () => {
    expect(readRequestCredential({}, `/gemini/v1beta/models?alt=sse&key=${KEY}`)).toEqual({
      kind: 'gateway',
      key: KEY,
      use: 'attach',
    });
    expect(readRequestCredential({ 'x-my-key': KEY }, '/mine/v1/models', ['x-my-key'])).toMatchObject({
      kind: 'gateway',
    });
  });

  it('should take X-Gateway-Key as identity only, the client keeping its own credentials', () => {
    expect(
      readRequestCredential({ 'x-gateway-key': KEY, authorization: 'Bearer sk-ant-sid01-session' }, '/claude/x'),
    ).toEqual({ kind: 'gateway', key: KEY, use: 'identify' });
  });

  it.each([
    ['Authorization: Bearer', { authorization: 'Bearer gk-short' }, '/openai/v1/models'],
    ['x-api-key', { 'x-api-key': `gk-${'a'.repeat(31)}` }, '/anthropic/v1/messages'],
    ['x-goog-api-key', { 'x-goog-api-key': `gk-${'a'.repeat(43)}!` }, '/gemini/v1beta/models'],
    ['?key=', {}, '/gemini/v1beta/models?key=gk-'],
    ['an Authorization value that is no bearer token', { authorization: 'Bearer gk-with space' }, '/openai/v1/models'],
    ['an Authorization value without a scheme', { authorization: 'gk-short' }, '/openai/v1/models'],
  ])('should take an ill-formed gateway key in %s for a gateway key, never a provider key', (_where, headers, url) => {
    expect(readRequestCredential(headers, url)).toMatchObject({ kind: 'gateway', use: 'attach' });
  });

  it('should call any other credential a provider key, and no credential none', () => {
    expect(readRequestCredential({ authorization: 'Bearer sk-proj-abc' }, '/openai/v1/models')).toEqual({
      kind: 'provider',
    });
    expect(readRequestCredential({}, '/gemini/v1beta/models?key=AIzaSyabc')).toEqual({ kind: 'provider' });
    expect(readRequestCredential({ authorization: 'Basic dXNlcjpwYXNz' }, '/openai/v1/models')).toEqual({
      kind: 'provider',
    });
    expect(readRequestCredential({ cookie: 'sessionKey=sk-ant-sid01' }, '/claude/append_message')).toEqual({
      kind: 'none',
    });
  });

  it('should take the first gateway key in the order of the places, else say whether any credential came', () => {
    // Authorization, the key headers, a configured one, ?key=, a WebSocket's key subprotocol: in that order.
    const places = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'x-my-key', 'query', 'protocol'];
    const value = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(KEY, 'gk-short'),
      fc.constantFrom('sk-proj-abc', 'AIzaSyabc', 'sk-ant-api03-x'),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: places.length, maxLength: places.length }), (values) => {
        const headers: Record<string, string> = {};
        let url = '/openai/v1/models';
        values.forEach((found, index) => {
          const place = places[index] ?? '';
          if (found === undefined) {
            return;
          }
          if (place === 'authorization') {
            headers[place] = `Bearer ${found}`;
          } else if (place === 'query') {
            url = `${url}?key=${found}`;
          } else if (place === 'protocol') {
            headers['upgrade'] = 'websocket';
            headers['sec-websocket-protocol'] = `realtime, openai-insecure-api-key.${found}`;
          } else {
            headers[place] = found;
          }
        });
        const present = values.filter((found): found is string => found !== undefined);
        const first = present.find((found) => found.startsWith('gk-'));
        const expected =
          first !== undefined
            ? { kind: 'gateway', key: first, use: 'attach' }
            : { kind: present.length > 0 ? 'provider' : 'none' };
        expect(readRequestCredential(headers, url, ['x-my-key'])).toEqual(expected);
      }),
    );
  });
});

describe(withoutQueryKey.name, () => {
  it('should drop only the key parameter and keep the rest in order', () => {
    expect(withoutQueryKey(`/gemini/v1beta/models/x:streamGenerateContent?alt=sse&key=${KEY}`)).toBe(
      '/gemini/v1beta/models/x:streamGenerateContent?alt=sse',
    );
    expect(withoutQueryKey(`/gemini/v1beta/models?key=${KEY}`)).toBe('/gemini/v1beta/models');
    expect(withoutQueryKey('/openai/v1/models')).toBe('/openai/v1/models');
  });

  it('should never leave a key parameter behind, whatever the query', () => {
    fc.assert(
      fc.property(fc.webPath(), fc.webQueryParameters(), (path, query) => {
        const url = `${path === '' ? '/' : path}?${query}&key=${KEY}`;
        expect(new URLSearchParams(withoutQueryKey(url).split('?')[1] ?? '').has('key')).toBe(false);
      }),
    );
  });
});
