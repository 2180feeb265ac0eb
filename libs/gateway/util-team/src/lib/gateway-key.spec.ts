import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  claimsGatewayKey,
  gatewayKeyDigest,
  gatewayKeyPrefix,
  isWellFormedGatewayKey,
  newGatewayKey,
  newKeyId,
} from './gateway-key';
import { budgetPeriodEnd, budgetPeriodKey, budgetPeriodStart } from './budget-period';

describe('gateway keys', () => {
  it('should make keys of gk- and 43 URL-safe characters, each different', () => {
    const keys = new Set(Array.from({ length: 50 }, () => newGatewayKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) {
      expect(key).toMatch(/^gk-[A-Za-z0-9_-]{43}$/);
      expect(claimsGatewayKey(key)).toBe(true);
      expect(isWellFormedGatewayKey(key)).toBe(true);
    }
  });

  it('should take any credential that starts with gk- for a gateway key, ill-formed ones too', () => {
    for (const text of ['gk-', 'gk-short', `gk-${'a'.repeat(31)}`, `gk-${'a'.repeat(40)}!`]) {
      expect(claimsGatewayKey(text)).toBe(true);
    }
    fc.assert(
      fc.property(fc.string(), (rest) => {
        expect(claimsGatewayKey(`gk-${rest}`)).toBe(true);
      }),
    );
  });

  it('should call well-formed only what newGatewayKey could have made', () => {
    const urlSafe = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''));
    fc.assert(
      fc.property(fc.array(urlSafe, { minLength: 43, maxLength: 43 }), (characters) => {
        expect(isWellFormedGatewayKey(`gk-${characters.join('')}`)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (rest) => {
        expect(isWellFormedGatewayKey(`gk-${rest}`)).toBe(/^[A-Za-z0-9_-]{43}$/.test(rest));
      }),
    );
    const good = newGatewayKey();
    for (const text of [
      'gk-',
      'gk-short',
      `${good}a`,
      good.slice(0, -1),
      `${good.slice(0, -1)}=`,
      `${good.slice(0, -1)}!`,
    ]) {
      expect(isWellFormedGatewayKey(text)).toBe(false);
    }
    expect(isWellFormedGatewayKey(`GK-${good.slice(3)}`)).toBe(false);
    expect(isWellFormedGatewayKey(`${good}\n`)).toBe(false);
  });

  it('should take no other credential for a gateway key', () => {
    for (const text of ['', 'gk', 'GK-abc', ' gk-abc', 'sk-abcdefghijklmnopqrstuvwxyz0123456789', 'sk-gk-abc']) {
      expect(claimsGatewayKey(text)).toBe(false);
    }
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(claimsGatewayKey(text)).toBe(text.startsWith('gk-'));
      }),
    );
  });

  it('should store a 64-character hex digest that differs for every key and never contains it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const digest = gatewayKeyDigest(a);
        expect(digest).toMatch(/^[0-9a-f]{64}$/);
        expect(gatewayKeyDigest(a)).toBe(digest);
        if (a !== b) {
          expect(gatewayKeyDigest(b)).not.toBe(digest);
        }
      }),
    );
  });

  it("should store the key's SHA-256 of its UTF-8 bytes, so digests written by earlier versions still match", () => {
    // Known answers: SHA-256 of the empty string, and of "gk-é" (UTF-8: 67 6b 2d c3 a9).
    expect(gatewayKeyDigest('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(gatewayKeyDigest('gk-\u00e9')).toBe(
      createHash('sha256')
        .update(Buffer.from([0x67, 0x6b, 0x2d, 0xc3, 0xa9]))
        .digest('hex'),
    );
  });

  it('should show only the first 8 characters and make distinct ids', () => {
    expect(gatewayKeyPrefix('gk-AbCdEfGhIjK')).toBe('gk-AbCdE');
    expect(newKeyId()).toMatch(/^key_[A-Za-z0-9_-]{16}$/);
    expect(newKeyId()).not.toBe(newKeyId());
  });
});

describe('budget periods', () => {
  it('should run a monthly budget from the first of the month (UTC) to the next', () => {
    const now = new Date('2026-12-31T23:59:59.999Z');
    expect(budgetPeriodStart('monthly', now)?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(budgetPeriodEnd('monthly', now)?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(budgetPeriodKey('monthly', now)).toBe('2026-12');
    expect(budgetPeriodKey('monthly', new Date('2027-01-01T00:00:00Z'))).toBe('2027-01');
  });

  it("should run a total budget over the key's whole life", () => {
    const now = new Date('2026-05-03T10:00:00Z');
    expect(budgetPeriodStart('total', now)).toBeNull();
    expect(budgetPeriodEnd('total', now)).toBeNull();
    expect(budgetPeriodKey('total', now)).toBe('total');
  });
});
