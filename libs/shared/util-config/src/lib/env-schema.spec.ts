import {
  ConfigValidationError,
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
