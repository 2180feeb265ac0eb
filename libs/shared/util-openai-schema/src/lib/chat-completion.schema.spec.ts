import { parseChatCompletionRequest } from './chat-completion.schema';

const minimal = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

function problemOf(body: unknown): { message: string; param: string } {
  const result = parseChatCompletionRequest(body);
  if (!('problem' in result)) {
    throw new Error(`expected a problem for ${JSON.stringify(body)}`);
  }
  return result.problem;
}

describe('parseChatCompletionRequest', () => {
  it('should accept a minimal request and keep the fields it does not check', () => {
    const result = parseChatCompletionRequest({ ...minimal, seed: 7, logit_bias: { '50256': -100 } });
    expect(result).toEqual({ request: { ...minimal, seed: 7, logit_bias: { '50256': -100 } } });
  });

  it('should accept every checked field at a valid value, nulls included where OpenAI allows them', () => {
    const body = {
      ...minimal,
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'developer', content: null },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hi' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', content: '42', tool_call_id: 'call_1' },
      ],
      stream: null,
      stream_options: null,
      max_tokens: null,
      max_completion_tokens: 5,
      temperature: 2,
      top_p: 0,
      stop: ['a', 'b'],
      n: 1,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'x' } },
      user: 'u-1',
    };
    expect(parseChatCompletionRequest(body)).toEqual({ request: body });
  });

  it.each([
    ['null', null],
    ['an array', [minimal]],
    ['a string', 'model=gpt'],
    ['a number', 42],
  ])('should name the body when it is %s', (_label, body) => {
    expect(problemOf(body)).toEqual({
      message: 'The request body must be a JSON object (send Content-Type: application/json)',
      param: 'body',
    });
  });

  it.each([
    ['model', { messages: minimal.messages }],
    ['model', { ...minimal, model: '' }],
    ['messages', { model: 'm' }],
    ['messages', { ...minimal, messages: [] }],
    ['messages[0].role', { ...minimal, messages: [{ role: 'robot', content: 'x' }] }],
    ['messages[1].content', { ...minimal, messages: [minimal.messages[0], { role: 'user', content: 5 }] }],
    [
      'messages[0].tool_calls[0].type',
      {
        ...minimal,
        messages: [
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'code', function: { name: 'f', arguments: '' } }] },
        ],
      },
    ],
    ['stream', { ...minimal, stream: 'yes' }],
    ['stream_options.include_usage', { ...minimal, stream_options: { include_usage: 'yes' } }],
    ['max_tokens', { ...minimal, max_tokens: 0 }],
    ['max_tokens', { ...minimal, max_tokens: 1.5 }],
    ['max_completion_tokens', { ...minimal, max_completion_tokens: -1 }],
    ['temperature', { ...minimal, temperature: 2.5 }],
    ['top_p', { ...minimal, top_p: 1.1 }],
    ['stop', { ...minimal, stop: 5 }],
    ['n', { ...minimal, n: 0 }],
    ['tools[0].function.name', { ...minimal, tools: [{ type: 'function', function: { name: '' } }] }],
    ['tools[0].type', { ...minimal, tools: [{ type: 'retrieval', function: { name: 'f' } }] }],
    ['tool_choice', { ...minimal, tool_choice: 'sometimes' }],
    ['parallel_tool_calls', { ...minimal, parallel_tool_calls: 'no' }],
    ['response_format.type', { ...minimal, response_format: {} }],
    ['user', { ...minimal, user: 7 }],
  ])('should name %s when it is invalid', (param, body) => {
    const problem = problemOf(body);
    expect(problem.param).toBe(param);
    expect(problem.message).toMatch(new RegExp(`^Invalid ${param.replace(/[[\].]/g, '\\$&')}: .+`));
  });

  it.each([
    ['messages[0].content[0].type', [{ text: 'hi' }]],
    ['messages[0].content[1].type', [{ type: 'text', text: 'a' }, { text: 'b' }]],
    ['messages[0].content[0].type', [{ type: 5, text: 'hi' }]],
  ])(
    'should name %s and the allowed part types when a content part has no type (it named messages[0].content)',
    (param, content) => {
      expect(problemOf({ ...minimal, messages: [{ role: 'user', content }] })).toEqual({
        message: `Invalid ${param}: a content part needs a type, "text" or "image_url"`,
        param,
      });
    },
  );

  it('should keep naming the content when it is neither text, parts nor null', () => {
    expect(problemOf({ ...minimal, messages: [{ role: 'user', content: 5 }] })).toEqual({
      message: 'Invalid messages[0].content: Invalid input',
      param: 'messages[0].content',
    });
  });

  it('should report the first problem only when several fields are wrong', () => {
    expect(problemOf({ model: '', messages: [] }).param).toBe('model');
  });
});
