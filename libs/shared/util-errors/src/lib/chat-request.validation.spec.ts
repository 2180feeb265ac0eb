import fc from 'fast-check';
import { thrownError } from '@openai-proxy/testing-fakes';
import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import {
  type UnsupportedField,
  invalidParam,
  refuseToolChoiceWithoutTools,
  rejectUnsupportedFields,
  requireTextContent,
  toolCallArguments,
} from './chat-request.validation';
import { ErrorCode } from './error-code';
import { GatewayException } from './gateway.exception';

const ALL_FIELDS: readonly UnsupportedField[] = [
  'n',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'response_format',
];

function request(fields: Partial<ChatCompletionRequest>): ChatCompletionRequest {
  return { model: 'm', messages: [{ role: 'user', content: 'Hi' }], ...fields };
}

const thrownBy = (run: () => unknown): GatewayException => thrownError(run, GatewayException);

describe('invalidParam', () => {
  it('should be a 400 invalid_request naming the field', () => {
    const error = invalidParam('Bad value', 'messages[0].role');
    expect(error.status).toBe(400);
    expect(error.toEnvelope().error).toEqual({
      message: 'Bad value',
      type: 'invalid_request_error',
      param: 'messages[0].role',
      code: ErrorCode.InvalidRequest,
    });
  });
});

describe('requireTextContent', () => {
  it('should read no content as empty text and a string as itself', () => {
    expect(requireTextContent(undefined, 'messages[0].content')).toBe('');
    expect(requireTextContent(null, 'messages[0].content')).toBe('');
    expect(requireTextContent('Hello', 'messages[0].content')).toBe('Hello');
  });

  it('should join text parts with newlines', () => {
    const content = [
      { type: 'text' as const, text: 'one' },
      { type: 'text' as const, text: 'two' },
    ];
    expect(requireTextContent(content, 'messages[0].content')).toBe('one\ntwo');
  });

  it('should refuse an image part with a 400 naming its type field', () => {
    const error = thrownBy(() =>
      requireTextContent(
        [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
        ],
        'messages[2].content',
      ),
    );
    expect(error.code).toBe(ErrorCode.InvalidRequest);
    expect(error.param).toBe('messages[2].content[1].type');
    expect(error.message).toBe('Only text parts are allowed here, found image_url');
  });

  it('should refuse a text part whose text is not a string', () => {
    expect(thrownBy(() => requireTextContent([{ type: 'text', text: 5 }], 'c')).param).toBe('c[0].type');
  });
});

describe('rejectUnsupportedFields', () => {
  it.each<[UnsupportedField, Partial<ChatCompletionRequest>]>([
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 0 }],
    ['logit_bias', { logit_bias: { '1': 5 } }],
    ['presence_penalty', { presence_penalty: 0.5 }],
    ['frequency_penalty', { frequency_penalty: -1 }],
    ['seed', { seed: 0 }],
    ['response_format', { response_format: { type: 'json_schema' } }],
  ])('should refuse %s with a 400 naming it and the bridge when the request uses it', (field, fields) => {
    const error = thrownBy(() => rejectUnsupportedFields(request(fields), ALL_FIELDS, 'Bard'));
    expect(error.status).toBe(400);
    expect(error.param).toBe(field);
    expect(error.message).toBe(`${field} is not supported by the Bard bridge`);
  });

  it.each<[string, Partial<ChatCompletionRequest>]>([
    ['n of 1', { n: 1 }],
    ['n null', { n: null }],
    ['logprobs false', { logprobs: false }],
    ['top_logprobs null', { top_logprobs: null }],
    ['an empty logit_bias', { logit_bias: {} }],
    ['penalties of 0', { presence_penalty: 0, frequency_penalty: 0 }],
    ['seed null', { seed: null }],
    ['response_format text', { response_format: { type: 'text' } }],
    ['response_format json_object', { response_format: { type: 'json_object' } }],
  ])('should accept %s: a value that asks for nothing', (_label, fields) => {
    expect(() => rejectUnsupportedFields(request(fields), ALL_FIELDS, 'Bard')).not.toThrow();
  });

  it('should only refuse the fields listed for the bridge, the first listed one first', () => {
    const both = request({ seed: 1, n: 3 });
    expect(() => rejectUnsupportedFields(both, ['logprobs'], 'x')).not.toThrow();
    expect(thrownBy(() => rejectUnsupportedFields(both, ['seed', 'n'], 'x')).param).toBe('seed');
  });
});

describe(toolCallArguments.name, () => {
  it('should give an object for any JSON text: the object itself, any other value as {value}', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = toolCallArguments(JSON.stringify(value), 'p');
        const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
        // JSON.stringify drops -0's sign: compare as JSON.
        expect(JSON.stringify(parsed)).toBe(JSON.stringify(isObject ? value : { value }));
      }),
    );
  });

  it('should take an empty text as {} and refuse text that is not JSON, naming the field', () => {
    expect(toolCallArguments('', 'p')).toEqual({});
    expect(
      thrownError(() => toolCallArguments('{oops', 'messages[1].tool_calls[0].function.arguments'), GatewayException),
    ).toEqual(expect.objectContaining({ param: 'messages[1].tool_calls[0].function.arguments' }));
  });
});

describe(refuseToolChoiceWithoutTools.name, () => {
  const request = (extra: Partial<ChatCompletionRequest>): ChatCompletionRequest => ({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    ...extra,
  });

  it.each([[{}], [{ tool_choice: 'auto' as const }], [{ tool_choice: 'none' as const, tools: [] }]])(
    'should let %p pass',
    (extra) => {
      expect(() => refuseToolChoiceWithoutTools(request(extra))).not.toThrow();
    },
  );

  it('should refuse a demanded call without tools, and let it pass beside tools', () => {
    expect(
      thrownError(() => refuseToolChoiceWithoutTools(request({ tool_choice: 'required' })), GatewayException),
    ).toEqual(expect.objectContaining({ param: 'tool_choice' }));
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'f' } }];
    expect(() => refuseToolChoiceWithoutTools(request({ tool_choice: 'required', tools }))).not.toThrow();
  });
});
