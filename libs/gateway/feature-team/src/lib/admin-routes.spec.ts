import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { adminTokenMatches } from './admin-routes';

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

describe(adminTokenMatches.name, () => {
  it('should take the token itself and nothing else, whatever their lengths', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string(), (token, given) => {
        expect(adminTokenMatches(digestOf(token), given)).toBe(given === token);
        expect(adminTokenMatches(digestOf(token), token)).toBe(true);
      }),
    );
  });

  it('should refuse a request without a token, even against the digest of an empty text', () => {
    expect(adminTokenMatches(digestOf(''), undefined)).toBe(false);
    expect(adminTokenMatches(digestOf('admin-token-0123456789'), undefined)).toBe(false);
  });

  it('should refuse a token that only starts or ends like the admin token', () => {
    const token = 'admin-token-0123456789';
    for (const given of [token.slice(0, -1), `${token}0`, `0${token}`, token.toUpperCase()]) {
      expect(adminTokenMatches(digestOf(token), given)).toBe(false);
    }
  });
});
