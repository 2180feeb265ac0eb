import fc from 'fast-check';
import { GatewayException } from '@openai-proxy/util-errors';
import { parseStreamGenerate, readBardTokens } from './bard.transform';

/** A StreamGenerate body around any inner payload: the shape Bard answers in, with the payload replaced. */
function streamGenerate(inner: unknown): string {
  const line = JSON.stringify([['wrb.fr', null, JSON.stringify(inner)]]);
  return `)]}'\n\n${line.length}\n${line}\n`;
}

/** Runs the reader; only a GatewayException (a 502 or 401 for the client) may come out of it. */
function outcome(read: () => unknown): 'value' | 'gateway-error' | 'other-error' {
  try {
    read();
    return 'value';
  } catch (error) {
    return error instanceof GatewayException ? 'gateway-error' : 'other-error';
  }
}

describe(parseStreamGenerate.name, () => {
  it('should throw nothing (and the page reader nothing but a GatewayException) for any payload, body or page', () => {
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.tuple(fc.jsonValue(), fc.jsonValue(), fc.jsonValue(), fc.jsonValue(), fc.array(fc.jsonValue())),
    );
    fc.assert(
      fc.property(payload, fc.string(), (inner, text) => {
        expect(outcome(() => parseStreamGenerate(streamGenerate(inner)))).toBe('value');
        expect(outcome(() => parseStreamGenerate(text))).toBe('value');
        expect(outcome(() => readBardTokens(text))).not.toBe('other-error');
      }),
      { numRuns: 300 },
    );
  });
});
