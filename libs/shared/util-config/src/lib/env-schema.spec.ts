import { thrownError } from '@openai-proxy/testing-fakes';
import {
  ConfigValidationError,
  PROXY_ALIASES,
  applyAliases,
  baseUrlSchema,
  booleanSchema,
  commonEnvShape,
  parseEnvironment,
  portSchema,
} from './env-schema';
import { parseTrustProxy, toPlatformSettings } from './settings.types';

describe('parseEnvironment', () => {
  const shape = {
    ...commonEnvShape,
    PORT: portSchema.default(3001),
    BASE: baseUrlSchema.default('https://api.openai.com'),
  };

  it('should apply defaults', () => {
    const parsed = parseEnvironment(shape, {});
    expect(parsed.PORT).toBe(3001);
    expect(parsed.UPSTREAM_CONNECT_TIMEOUT_MS).toBe(10_000);
    expect(parsed.STREAM_HEARTBEAT_MS).toBe(15_000);
    expect(parsed.MAX_RELAY_BODY_BYTES).toBe(512 * 1024 * 1024);
    expect(parsed.LOG_LEVEL).toBe('info');
  });

  it('should default the retry layer to 2 retries within a 20% budget, and breakers that open after 5 failures for 10 s', () => {
    const settings = toPlatformSettings('svc', 1, parseEnvironment(commonEnvShape, {}), false);
    expect(settings.upstream.retry).toEqual({
      retries: 2,
      budgetPercent: 20,
      breakerFailures: 5,
      breakerOpenMs: 10_000,
    });
  });

  it('should document each retry and breaker variable in its schema, and refuse a budget over 100% or an open time of 0', () => {
    for (const name of [
      'UPSTREAM_RETRIES',
      'UPSTREAM_RETRY_BUDGET_PERCENT',
      'UPSTREAM_BREAKER_FAILURES',
      'UPSTREAM_BREAKER_OPEN_MS',
    ] as const) {
      expect(commonEnvShape[name].description).toEqual(expect.any(String));
    }
    expect(() => parseEnvironment(commonEnvShape, { UPSTREAM_RETRY_BUDGET_PERCENT: '101' })).toThrow(
      ConfigValidationError,
    );
    expect(() => parseEnvironment(commonEnvShape, { UPSTREAM_BREAKER_OPEN_MS: '0' })).toThrow(ConfigValidationError);
  });

  it('should list every bad variable at once', () => {
    let caught: unknown;
    try {
      parseEnvironment(shape, { PORT: 'eighty', BASE: 'ftp://x', LOG_LEVEL: 'loud', SHUTDOWN_DRAIN_MS: '-1' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigValidationError);
    const problems = (caught as ConfigValidationError).problems.join('\n');
    for (const name of ['PORT', 'BASE', 'LOG_LEVEL', 'SHUTDOWN_DRAIN_MS']) {
      expect(problems).toContain(name);
    }
  });

  it('should strip a trailing slash from base URLs and treat empty values as unset', () => {
    expect(parseEnvironment(shape, { BASE: 'https://example.com/v1/', PORT: '' })).toMatchObject({
      BASE: 'https://example.com/v1',
      PORT: 3001,
    });
  });

  it('should read booleans in the usual spellings', () => {
    const flags = { FLAG: booleanSchema.default(true) };
    expect(parseEnvironment(flags, { FLAG: 'false' }).FLAG).toBe(false);
    expect(parseEnvironment(flags, { FLAG: 'TRUE' }).FLAG).toBe(true);
    expect(() => parseEnvironment(flags, { FLAG: 'maybe' })).toThrow(ConfigValidationError);
  });

  it('should take an alias when the canonical name is unset', () => {
    expect(applyAliases({ API_BASE: 'https://a' }, { OPENAI_API_BASE: ['API_BASE'] })['OPENAI_API_BASE']).toBe(
      'https://a',
    );
    expect(
      applyAliases({ API_BASE: 'https://a', OPENAI_API_BASE: 'https://b' }, { OPENAI_API_BASE: ['API_BASE'] })[
        'OPENAI_API_BASE'
      ],
    ).toBe('https://b');
  });
});

describe('toPlatformSettings', () => {
  it('should read TRUST_PROXY as Express does', () => {
    expect(parseTrustProxy(undefined, false)).toBe(false);
    expect(parseTrustProxy('true', false)).toBe(true);
    expect(parseTrustProxy('2', false)).toBe(2);
    expect(parseTrustProxy('10.0.0.0/8', false)).toBe('10.0.0.0/8');
    const settings = toPlatformSettings('svc', 1, parseEnvironment(commonEnvShape, { TRUST_PROXY: '1' }), false);
    expect(settings.trustProxy).toBe(1);
  });
});

describe('egress proxy settings', () => {
  function egressProxy(env: Record<string, string>): string | undefined {
    const parsed = parseEnvironment(commonEnvShape, applyAliases(env, PROXY_ALIASES));
    return toPlatformSettings('svc', 1, parsed, false).upstream.egressProxy;
  }

  it('should take ALL_PROXY, or all_proxy, when HTTPS_PROXY is unset', () => {
    expect(egressProxy({ ALL_PROXY: 'socks5://127.0.0.1:7890' })).toBe('socks5://127.0.0.1:7890');
    expect(egressProxy({ all_proxy: 'socks5h://127.0.0.1:7890' })).toBe('socks5h://127.0.0.1:7890');
    expect(egressProxy({})).toBeUndefined();
  });

  it('should prefer HTTPS_PROXY when both are set', () => {
    expect(egressProxy({ HTTPS_PROXY: 'http://127.0.0.1:7890', ALL_PROXY: 'socks5://127.0.0.1:7891' })).toBe(
      'http://127.0.0.1:7890',
    );
  });

  it('should accept http, https, socks5 and socks5h proxies with a login when given', () => {
    for (const url of [
      'http://u:p@proxy:3128',
      'https://proxy',
      'socks5://u:p@127.0.0.1:7890',
      'socks5h://[::1]:1080',
    ]) {
      expect(egressProxy({ ALL_PROXY: url })).toBe(url);
    }
  });

  it('should refuse the start naming the variable and not the URL when a proxy scheme is not supported', () => {
    for (const [name, value] of [
      ['ALL_PROXY', 'socks4://clash:hunter2@127.0.0.1:7890'],
      ['HTTPS_PROXY', 'ftp://127.0.0.1:21'],
      ['ALL_PROXY', 'not a url'],
    ] as const) {
      let caught: unknown;
      try {
        egressProxy({ [name]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigValidationError);
      const message = (caught as ConfigValidationError).message;
      expect(message).toContain(`${name}: must be an http://, https://, socks5:// or socks5h:// proxy URL`);
      expect(message).not.toContain('hunter2');
    }
  });

  it('should refuse the start naming the variable and not the login when the login has a bare percent sign', () => {
    for (const [name, value] of [
      ['ALL_PROXY', 'socks5://clash:100%@127.0.0.1:1080'],
      ['HTTPS_PROXY', 'http://100%25%zz:hunter2@proxy:3128'],
    ] as const) {
      const { message } = thrownError(() => egressProxy({ [name]: value }), ConfigValidationError);
      expect(message).toBe(`Invalid configuration:\n  - ${name}: percent-encode the login (a % is written %25)`);
    }
  });
});
