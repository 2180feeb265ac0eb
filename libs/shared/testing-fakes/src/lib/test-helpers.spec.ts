import { Readable } from 'node:stream';
import { canaryLogReport } from './credential-checks';
import { type TextChunk, streamedText } from './chat-stream-text';
import { thrownError } from './thrown-error';

class ExpectedError extends Error {}

describe(canaryLogReport.name, () => {
  it('should report an unlogged path and every leaked secret when the log shows them', () => {
    const log = '{"headers":{"x-api-key":"[Redacted]"},"url":"/a"} sk-AAAA1111';
    const report = canaryLogReport(
      log,
      'x-api-key',
      [
        ['GET', '/a?key=BBBB2222', undefined],
        ['GET', '/b', undefined],
      ],
      ['AAAA1111', 'BBBB2222'],
    );
    expect(report).toEqual({ headerLogged: true, unloggedPaths: ['/b'], leakedSecrets: ['AAAA1111'] });
  });

  it('should report the header as not logged when its name is missing', () => {
    expect(canaryLogReport('{}', 'x-api-key', [], []).headerLogged).toBe(false);
  });
});

describe(thrownError.name, () => {
  it('should return the error when the action throws one of the class', () => {
    const error = new ExpectedError('named');
    expect(
      thrownError(() => {
        throw error;
      }, ExpectedError),
    ).toBe(error);
  });

  it('should rethrow when the action throws another error, and throw when it throws nothing', () => {
    expect(() =>
      thrownError(() => {
        throw new TypeError('other');
      }, ExpectedError),
    ).toThrow(TypeError);
    expect(() => thrownError(() => undefined, ExpectedError)).toThrow('expected a ExpectedError');
  });
});

describe(streamedText.name, () => {
  it('should join the first choice of each chunk when some chunks have no content', async () => {
    const chunks: TextChunk[] = [
      { choices: [{ delta: { content: 'Hel' } }] },
      { choices: [{ delta: { content: null } }] },
      { choices: [] },
      { choices: [{ delta: { content: 'lo' } }] },
    ];
    expect(await streamedText(Readable.from(chunks) as AsyncIterable<TextChunk>)).toBe('Hello');
  });
});
