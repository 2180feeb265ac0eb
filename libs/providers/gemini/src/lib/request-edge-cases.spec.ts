import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { ErrorCode } from '@openai-proxy/util-errors';
import { toGatewayError } from './error.transform';
import { toGeminiRequest } from './request.transform';
import { toChatCompletion } from './response.transform';
import { GeminiStreamTransformer } from './stream.transform';

function translate(extra: Partial<ChatCompletionRequest>): ReturnType<typeof toGeminiRequest> {
  return toGeminiRequest({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], ...extra });
}

const TOOLS: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'get_weather' } }];

describe('toGeminiRequest tool_choice without tools (regression: Gemini refused toolConfig without declarations)', () => {
  it.each([[{ tool_choice: 'auto' as const }], [{ tool_choice: 'none' as const, tools: [] }]])(
    'should send no toolConfig for %p',
    (extra) => {
      const body = translate(extra);
      expect(body).not.toHaveProperty('toolConfig');
      expect(body).not.toHaveProperty('tools');
    },
  );

  it.each([
    [{ tool_choice: 'required' as const }],
    [{ tool_choice: { type: 'function' as const, function: { name: 'get_weather' } } }],
  ])('should refuse %p naming tool_choice', (extra) => {
    expect(() => translate(extra)).toThrow(expect.objectContaining({ param: 'tool_choice' }));
  });

  it('should still send the choice beside tools', () => {
    expect(translate({ tools: TOOLS, tool_choice: 'required' }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY' },
    });
  });
});

describe('toGeminiRequest content', () => {
  it('should leave out empty text parts (regression: they went upstream as empty parts)', () => {
    const body = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'a' },
          ],
        },
      ],
    });
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'a' }] }]);
  });
});

describe('Gemini errors', () => {
  it('should answer a bad API key (400 INVALID_ARGUMENT, reason API_KEY_INVALID) with 401 invalid_api_key', () => {
    const error = toGatewayError(
      400,
      {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
        },
      },
      undefined,
    );
    expect(error.status).toBe(401);
    expect(error.code).toBe(ErrorCode.InvalidApiKey);
  });

  it.each([[undefined], ['not a list'], [[{ reason: 'OTHER' }, null, 3]]])(
    'should keep any other INVALID_ARGUMENT (details %p) a 400',
    (details) => {
      const error = toGatewayError(
        400,
        { error: { code: 400, message: 'm', status: 'INVALID_ARGUMENT', details } },
        '',
      );
      expect(error.status).toBe(400);
    },
  );
});

describe('Gemini answers', () => {
  it('should give each candidate its own tool call ids when n > 1 (regression: both got call_R_0)', () => {
    const call = { functionCall: { name: 'f', args: {} } };
    const completion = toChatCompletion(
      {
        responseId: 'R',
        candidates: [
          { index: 0, content: { role: 'model', parts: [call] }, finishReason: 'STOP' },
          { index: 1, content: { role: 'model', parts: [call] }, finishReason: 'STOP' },
        ],
      },
      'g',
      1,
      'fallback',
    );
    const ids = completion.choices.flatMap((choice) => choice.message.tool_calls?.map((tool) => tool.id) ?? []);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it('should end a stream whose prompt was blocked with an empty candidates list with content_filter', () => {
    const transformer = new GeminiStreamTransformer({
      id: 'm',
      createdSeconds: 1,
      model: 'g',
      includeUsage: false,
      candidates: 1,
    });
    const items = [
      ...transformer.transform({
        event: undefined,
        data: JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' }, candidates: [] }),
        id: undefined,
      }),
      ...transformer.flush(),
    ];
    expect(items.some((item) => item.kind === 'error')).toBe(false);
    const finishes = items.flatMap((item) =>
      item.kind === 'chunk' ? item.chunk.choices.map((choice) => choice.finish_reason) : [],
    );
    expect(finishes).toContain('content_filter');
  });
});
