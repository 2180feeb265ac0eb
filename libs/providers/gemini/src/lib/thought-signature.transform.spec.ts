import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import type { GeminiResponse } from './gemini.types';
import { toGeminiRequest } from './request.transform';
import { toChatCompletion } from './response.transform';
import { fixture, fixtureJson, replayGeminiStream } from './__fixtures__/replay-stream';
import { thoughtSignatureOf, withThoughtSignature } from './thought-signature.transform';

const SIGNATURE = '/Gx43NOmuK4fzgDhMNuN+8cUOwjtel2rmc1G0hGCp9zObgsFQNmLpQbGfc8uRZZBGA==';

function functionCallParts(request: ChatCompletionRequest): unknown[] {
  return toGeminiRequest(request).contents.flatMap((content) =>
    content.parts.filter((part) => part.functionCall !== undefined),
  );
}

describe('Gemini thought signatures (regression: Gemini 3 refused the next turn of a function call)', () => {
  it('should carry the signature in the tool call id when the answer is not streamed', () => {
    expect(
      toChatCompletion(
        fixtureJson<GeminiResponse>('response-thought-signature.gemini.json'),
        'requested',
        1_700_000_000,
        'fallback',
      ),
    ).toEqual(fixtureJson('response-thought-signature.openai.json'));
  });

  it('should carry the signature in the tool call id when the answer is streamed, split at every byte offset', () => {
    const bytes = Buffer.from(fixture('stream-thought-signature.gemini.sse'), 'utf8');
    const expected = fixtureJson<unknown[]>('stream-thought-signature.openai.json');
    expect(replayGeminiStream(bytes, undefined, 's2')).toEqual(expected);
    for (let offset = 1; offset < bytes.length; offset += 1) {
      expect(replayGeminiStream(bytes, offset, 's2')).toEqual(expected);
    }
  });

  it('should put the signature back on the functionCall part when the next request brings the ids back', () => {
    expect(toGeminiRequest(fixtureJson<ChatCompletionRequest>('request-thought-signature.openai.json'))).toEqual(
      fixtureJson('request-thought-signature.gemini.json'),
    );
  });

  it('should restore the exact signature when an answer goes back as the next turn', () => {
    const answer = toChatCompletion(
      fixtureJson<GeminiResponse>('response-thought-signature.gemini.json'),
      'g',
      1,
      'fallback',
    );
    const message = answer.choices[0]?.message;
    const calls = message?.tool_calls ?? [];
    const request: ChatCompletionRequest = {
      model: 'g',
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: message?.content ?? null, tool_calls: calls },
        ...calls.map((call) => ({ role: 'tool' as const, tool_call_id: call.id, content: 'ok' })),
      ],
    };
    expect(functionCallParts(request)).toEqual([
      expect.objectContaining({ thoughtSignature: SIGNATURE }),
      expect.not.objectContaining({ thoughtSignature: expect.anything() }),
    ]);
  });

  it.each([
    ['an id with no signature', 'call_abc', undefined],
    ['an id another client made', 'toolu_01A09q90qw90lq917835lq9', undefined],
    ['a raw base64 signature (LiteLLM style)', `call_1__thought__${SIGNATURE}`, SIGNATURE],
    ['a separator with no signature after it', 'call_1__thought__', undefined],
    ['a separator followed by no base64', 'call_1__thought__not base64!', undefined],
    ['base64url of an impossible length', 'call_1__thought__abcde', undefined],
  ])('should read %s', (_case, id, expected) => {
    expect(thoughtSignatureOf(id)).toBe(expected);
  });

  it('should keep only characters tool call ids allow everywhere ([A-Za-z0-9_-]) and round-trip', () => {
    const id = withThoughtSignature('call_r_0', SIGNATURE);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(thoughtSignatureOf(id)).toBe(SIGNATURE);
    expect(withThoughtSignature('call_r_0', undefined)).toBe('call_r_0');
    expect(withThoughtSignature('call_r_0', 'not base64!')).toBe('call_r_0');
  });
});
