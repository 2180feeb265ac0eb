import { bypassesProxy } from './no-proxy';
import { joinPath } from './relay.service';

describe('bypassesProxy', () => {
  const target = new URL('https://api.openai.com/v1/models');

  it('should use the proxy when NO_PROXY is unset or empty', () => {
    expect(bypassesProxy(target, undefined)).toBe(false);
    expect(bypassesProxy(target, ' ')).toBe(false);
  });

  it.each(['*', 'api.openai.com', 'openai.com', '.openai.com', 'localhost, openai.com', 'api.openai.com:443'])(
    'should bypass for %p',
    (noProxy) => {
      expect(bypassesProxy(target, noProxy)).toBe(true);
    },
  );

  it.each(['anthropic.com', 'api.openai.com:8443', 'notopenai.com', 'i.com'])('should not bypass for %p', (noProxy) => {
    expect(bypassesProxy(target, noProxy)).toBe(false);
  });
});

describe('joinPath', () => {
  it('should append the rest to the base path', () => {
    expect(joinPath('', '/v1/models?x=1')).toBe('/v1/models?x=1');
    expect(joinPath('/prefix', '/v1/models')).toBe('/prefix/v1/models');
    expect(joinPath('', '')).toBe('/');
    expect(joinPath('', '?x=1')).toBe('/?x=1');
    expect(joinPath('/prefix', '')).toBe('/prefix');
  });
});
