import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { toGatewayError } from './error.transform';
import { toFinishReason } from './finish-reason.map';
import type { GeminiResponse } from './gemini.types';
import { geminiModelName, toGeminiRequest } from './request.transform';
import { toChatCompletion } from './response.transform';
import { GeminiStreamTransformer } from './stream.transform';
import { fixture, fixtureJson, replayGeminiStream } from './__fixtures__/replay-stream';

describe('toGeminiRequest', () => {
  it('should match the golden fixture (merged turns, function call and response, late system, settings)', () => {
    expect(toGeminiRequest(fixtureJson<ChatCompletionRequest>('request-multiturn.openai.json'))).toEqual(
      fixtureJson('request-multiturn.gemini.json'),
    );
    expect(geminiModelName('models/gemini-2.5-pro')).toBe('gemini-2.5-pro');
  });

  it('should refuse a tool message that answers no earlier call', () => {
    const request = { model: 'g', messages: [{ role: 'tool' as const, tool_call_id: 'missing', content: 'x' }] };
    expect(() => toGeminiRequest(request)).toThrow(expect.objectContaining({ param: 'messages[0].tool_call_id' }));
  });
});

describe('toChatCompletion', () => {
  it('should match the golden fixture (thoughts left out, one choice per candidate, tool calls with ids)', () => {
    expect(
      toChatCompletion(
        fixtureJson<GeminiResponse>('response-two-candidates.gemini.json'),
        'requested',
        1_700_000_000,
        'fallback',
      ),
    ).toEqual(fixtureJson('response-two-candidates.openai.json'));
  });

  it('should answer a blocked prompt with content_filter', () => {
    const completion = toChatCompletion({ promptFeedback: { blockReason: 'SAFETY' } }, 'g', 1, 'id');
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
  });
});

describe(GeminiStreamTransformer.name, () => {
  const bytes = Buffer.from(fixture('stream-text.gemini.sse'), 'utf8');
  const expected = fixtureJson<unknown[]>('stream-text.openai.json');

  it('should produce the golden chunks, whole and split at every byte offset', () => {
    expect(replayGeminiStream(bytes, undefined, 's1')).toEqual(expected);
    for (let offset = 1; offset < bytes.length; offset += 1) {
      expect(replayGeminiStream(bytes, offset, 's1')).toEqual(expected);
    }
  });
});

describe('Gemini maps', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['IMAGE_PROHIBITED_CONTENT', false, 'content_filter'],
    ['IMAGE_RECITATION', false, 'content_filter'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', true, 'content_filter'],
    // Stops that are neither a limit nor a policy block: the turn simply ended.
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    ['MALFORMED_FUNCTION_CALL', true, 'tool_calls'],
    ['OTHER', false, 'stop'],
    ['LANGUAGE', false, 'stop'],
    ['UNEXPECTED_TOOL_CALL', false, 'stop'],
    ['TOO_MANY_TOOL_CALLS', false, 'stop'],
    ['MISSING_THOUGHT_SIGNATURE', false, 'stop'],
    ['IMAGE_OTHER', false, 'stop'],
    ['FINISH_REASON_UNSPECIFIED', false, 'stop'],
    [undefined, false, 'stop'],
  ])('should map finishReason %s (function calls: %s) to %s', (reason, called, expectedReason) => {
    expect(toFinishReason(reason, called)).toBe(expectedReason);
  });

  it.each([
    ['INVALID_ARGUMENT', 400, 400],
    ['UNAUTHENTICATED', 401, 401],
    ['PERMISSION_DENIED', 403, 403],
    ['NOT_FOUND', 404, 404],
    ['RESOURCE_EXHAUSTED', 429, 429],
    ['UNAVAILABLE', 503, 503],
    ['DEADLINE_EXCEEDED', 504, 504],
  ])('should map error %s to %i', (status, code, expectedStatus) => {
    expect(toGatewayError(code, { error: { code, message: 'm', status } }, undefined).status).toBe(expectedStatus);
  });
});

describe('GeminiStreamTransformer with several candidates (regression: other candidates were dropped)', () => {
  it('should give each candidate its own choice index and send usage only after every candidate finished', () => {
    const transformer = new GeminiStreamTransformer({
      id: 'm',
      createdSeconds: 1,
      model: 'g',
      includeUsage: true,
      candidates: 2,
    });
    const frame = (payload: unknown): { event: undefined; data: string; id: undefined } => ({
      event: undefined,
      data: JSON.stringify(payload),
      id: undefined,
    });
    const items = [
      ...transformer.transform(
        frame({
          candidates: [
            { index: 0, content: { parts: [{ text: 'A0' }] } },
            { index: 1, content: { parts: [{ text: 'B0' }] } },
          ],
        }),
      ),
      ...transformer.transform(
        frame({ candidates: [{ index: 0, content: { parts: [{ text: 'A1' }] }, finishReason: 'STOP' }] }),
      ),
      ...transformer.transform(
        frame({
          candidates: [{ index: 1, content: { parts: [{ text: 'B1' }] }, finishReason: 'MAX_TOKENS' }],
          usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 4, thoughtsTokenCount: 3, totalTokenCount: 9 },
        }),
      ),
      ...transformer.flush(),
    ];
    const chunks = items.map((item) => (item.kind === 'chunk' ? item.chunk : undefined));
    const text = (index: number): string =>
      chunks.map((chunk) => chunk?.choices.find((choice) => choice.index === index)?.delta.content ?? '').join('');
    expect([text(0), text(1)]).toEqual(['A0A1', 'B0B1']);
    const finishes = chunks.flatMap(
      (chunk) =>
        chunk?.choices
          .filter((choice) => choice.finish_reason !== null)
          .map((choice) => [choice.index, choice.finish_reason]) ?? [],
    );
    expect(finishes).toEqual([
      [0, 'stop'],
      [1, 'length'],
    ]);
    expect(chunks[chunks.length - 1]?.usage).toEqual({
      prompt_tokens: 2,
      completion_tokens: 7,
      total_tokens: 9,
      completion_tokens_details: { reasoning_tokens: 3 },
    });
    expect(items.some((item) => item.kind === 'error')).toBe(false);
  });
});
