import type { IncomingMessage } from 'node:http';
import { ensureRequestId } from './request-tracker.service';

function requestWithId(id: string | string[] | undefined): IncomingMessage {
  return { headers: id === undefined ? {} : { 'x-request-id': id } } as unknown as IncomingMessage;
}

const GENERATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe(ensureRequestId.name, () => {
  it.each(['req_123', 'trace:abc.def-42', '2b1c9d5e-6f0a-4b7e-9c1d-3e5f7a9b1c2d', 'a'.repeat(64)])(
    'should keep the client id %p when it is short and of the safe alphabet',
    (given) => {
      const request = requestWithId(given);
      expect(ensureRequestId(request)).toBe(given);
      expect(request.headers['x-request-id']).toBe(given);
    },
  );

  it.each([
    ['a credential', 'sk-canary-IIII9999'],
    ['a session key', 'sess-abc123def'],
    ['a gateway key', 'gk-team-0123456789'],
    ['a Google key', 'AIzaSyA-1234567890abcdef'],
    ['an Anthropic OAuth token after a prefix', 'id.sk-ant-oat01-abc'],
    ['too long', 'a'.repeat(65)],
    ['outside the alphabet', 'id with spaces'],
    ['a log-line injection', 'id"\n{"level":60}'],
    ['empty', ''],
  ])('should make its own id when the client id is %s', (_reason, given) => {
    const request = requestWithId(given);
    const id = ensureRequestId(request);
    expect(id).toMatch(GENERATED);
    expect(request.headers['x-request-id']).toBe(id);
  });

  it('should make its own id when none or several were sent', () => {
    expect(ensureRequestId(requestWithId(undefined))).toMatch(GENERATED);
    expect(ensureRequestId(requestWithId(['a', 'b']))).toMatch(GENERATED);
  });
});
