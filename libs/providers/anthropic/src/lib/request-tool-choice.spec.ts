import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { toAnthropicRequest } from './request.transform';

const TOOLS: ChatCompletionRequest['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
];

function translate(extra: Partial<ChatCompletionRequest>): ReturnType<typeof toAnthropicRequest>['body'] {
  return toAnthropicRequest(
    { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }], ...extra },
    { defaultMaxTokens: 16 },
  ).body;
}

describe('toAnthropicRequest tool_choice', () => {
  it.each([
    [{ parallel_tool_calls: false }],
    [{ parallel_tool_calls: false, tool_choice: 'auto' as const }],
    [{ tool_choice: 'none' as const }],
    [{ parallel_tool_calls: false, tools: [] }],
  ])(
    'should send no tool_choice when the request has no tools, %p (regression: Anthropic refused tool_choice without tools)',
    (extra) => {
      expect(translate(extra)).not.toHaveProperty('tool_choice');
    },
  );

  it.each([
    [{ tool_choice: 'required' as const }],
    [{ tool_choice: { type: 'function' as const, function: { name: 'get_weather' } } }],
  ])('should refuse %p naming tool_choice when the request has no tools', (extra) => {
    expect(() => translate(extra)).toThrow(expect.objectContaining({ param: 'tool_choice' }));
  });

  it.each([
    [{ parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
    [
      { tool_choice: 'required' as const, parallel_tool_calls: false },
      { type: 'any', disable_parallel_tool_use: true },
    ],
    [{ tool_choice: 'none' as const }, { type: 'none' }],
    [{}, undefined],
  ])('should map %p to %p when tools are given', (extra, expected) => {
    expect(translate({ tools: TOOLS, ...extra }).tool_choice).toEqual(expected);
  });
});
