import { validateOpenAiShape } from './openapi-shapes';

describe(validateOpenAiShape.name, () => {
  const valid = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_741_570_283,
    model: 'gpt-4o',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hi', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };

  it('should accept a known-good chat completion when every required field is present', () => {
    expect(validateOpenAiShape('CreateChatCompletionResponse', valid)).toEqual([]);
  });

  it('should report the missing property when a completion has no choices', () => {
    const withoutChoices: Record<string, unknown> = { ...valid };
    delete withoutChoices['choices'];
    const errors = validateOpenAiShape('CreateChatCompletionResponse', withoutChoices);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("must have required property 'choices'");
  });

  it('should report the path and value when created is a string', () => {
    const errors = validateOpenAiShape('CreateChatCompletionResponse', { ...valid, created: '1741570283' });
    expect(errors).toEqual([expect.stringMatching(/^\/created must be integer .*value: "1741570283"$/)]);
  });

  it('should refuse a millisecond timestamp when created is in the unixtime format', () => {
    const errors = validateOpenAiShape('CreateChatCompletionResponse', { ...valid, created: 1_741_570_283_000 });
    expect(errors).toEqual([expect.stringContaining('/created must match format "unixtime"')]);
  });

  it('should accept null only where the description says nullable when checking a chunk', () => {
    const chunk = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1_741_570_283,
      model: 'gpt-4o',
      // `usage` is a `$ref` with `nullable: true`, `finish_reason` an enum with `nullable: true`,
      // `logprobs` an object with `nullable: true`: all three must take null.
      usage: null,
      choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }],
    };
    expect(validateOpenAiShape('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    const wrongChoice = { ...chunk, choices: [{ ...chunk.choices[0], finish_reason: 'done', index: null }] };
    const errors = validateOpenAiShape('CreateChatCompletionStreamResponse', wrongChoice);
    expect(errors).toEqual([
      expect.stringMatching(/^\/choices\/0\/finish_reason must be equal to one of the allowed values/),
      expect.stringMatching(/^\/choices\/0\/index must be integer/),
    ]);
    expect(validateOpenAiShape('CreateChatCompletionStreamResponse', { ...chunk, model: null })).toEqual([
      expect.stringContaining('/model must be string'),
    ]);
  });

  it('should report a wrong error envelope when param and code are missing', () => {
    expect(
      validateOpenAiShape('ErrorResponse', { error: { message: 'x', type: 't', param: null, code: null } }),
    ).toEqual([]);
    expect(validateOpenAiShape('ErrorResponse', { error: { message: 'x', type: 't' } })).toEqual([
      expect.stringContaining("must have required property 'param'"),
      expect.stringContaining("must have required property 'code'"),
    ]);
  });
});
