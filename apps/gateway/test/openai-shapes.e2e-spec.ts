// Every OpenAI-shaped object the Claude and Google bridges produce, read as raw HTTP through the gateway and checked
// against the schemas of OpenAI's own OpenAPI description (extracted into the testing-fakes lib) rather than our own types.
import { type OpenAiShapeName, validateOpenAiShape } from '@openai-proxy/testing-fakes';
import { anthropicError, encodeSseEventForTest, fakeAnthropicMessages, sse } from './support/anthropic-frames';
import { type Stack, startStack } from './support/stack';

const API_KEY = 'sk-ant-test-key';
const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const SESSION = 'sk-ant-sid01-x';
const GEMINI_KEY = 'AIzaTestKey0123';
const REQUEST_TIMEOUT_MS = 10_000;
/** No answer of the fakes comes near this many SSE frames; more means a runaway stream. */
const MAX_FRAMES = 200;

const WEATHER_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  },
];

interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** One raw HTTP exchange with the gateway: status, content type and the body as text, nothing parsed. */
async function call(
  gatewayUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; authorization?: string } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) {
    headers['authorization'] = options.authorization;
  }
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

/** The JSON body of an answer, which must say it is JSON. */
function json(answer: RawAnswer): unknown {
  expect(answer.contentType).toContain('application/json');
  return JSON.parse(answer.text) as unknown;
}

/** The `data:` payloads of an SSE body, in order (`[DONE]` included as it is). */
function dataFrames(text: string): string[] {
  const frames = text
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice('data:'.length).trim());
  expect(frames.length).toBeLessThanOrEqual(MAX_FRAMES);
  return frames;
}

/** The JSON chunks of a complete stream: it must end with exactly one `[DONE]`, after every chunk. */
function streamedChunks(text: string): unknown[] {
  const frames = dataFrames(text);
  expect(frames.at(-1)).toBe('[DONE]');
  expect(frames.filter((frame) => frame === '[DONE]')).toHaveLength(1);
  return frames.slice(0, -1).map((frame) => JSON.parse(frame) as unknown);
}

/** Validation errors per chunk, only for the chunks that have any (so a clean stream gives []). */
function chunkViolations(
  schemaName: OpenAiShapeName,
  chunks: readonly unknown[],
): Array<{ chunk: number; errors: string[] }> {
  return chunks
    .map((chunk, index) => ({ chunk: index, errors: validateOpenAiShape(schemaName, chunk) }))
    .filter((result) => result.errors.length > 0);
}

describe('OpenAI shapes from the Claude bridge, checked against the OpenAI OpenAPI description', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  afterEach(() => {
    stack.anthropic.on('POST', '/v1/messages', fakeAnthropicMessages);
  });

  function completions(body: Record<string, unknown>, authorization = `Bearer ${API_KEY}`): Promise<RawAnswer> {
    return call(stack.gatewayUrl, 'POST', '/claude/v1/chat/completions', {
      body: { model: 'claude-sonnet-4-5', ...body },
      authorization,
    });
  }

  function webCompletions(body: Record<string, unknown>, authorization?: string): Promise<RawAnswer> {
    return call(stack.gatewayUrl, 'POST', `/claude/${ORG}/v1/chat/completions`, {
      body: { model: 'claude-2.1', ...body },
      authorization,
    });
  }

  describe('the validator itself', () => {
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

  describe('the Anthropic API route (/claude/v1)', () => {
    it('should match CreateChatCompletionResponse when a plain text completion is answered', async () => {
      const answer = await completions({ messages: [{ role: 'user', content: 'ping' }] });
      expect(answer.status).toBe(200);
      const completion = json(answer);
      expect(completion).toMatchObject({ choices: [{ message: { content: expect.stringContaining('ping') } }] });
      expect(validateOpenAiShape('CreateChatCompletionResponse', completion)).toEqual([]);
    });

    it('should match CreateChatCompletionResponse when Claude answers with a tool call', async () => {
      const answer = await completions({
        messages: [{ role: 'user', content: 'weather in Paris?' }],
        tools: WEATHER_TOOLS,
      });
      expect(answer.status).toBe(200);
      const completion = json(answer);
      expect(completion).toMatchObject({
        choices: [{ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ type: 'function' }] } }],
      });
      expect(validateOpenAiShape('CreateChatCompletionResponse', completion)).toEqual([]);
    });

    it('should match CreateChatCompletionStreamResponse for every chunk when a text stream includes usage', async () => {
      const answer = await completions({
        messages: [{ role: 'user', content: '流式 🚀' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(answer.status).toBe(200);
      expect(answer.contentType).toContain('text/event-stream');
      const chunks = streamedChunks(answer.text);
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
      expect(chunkViolations('CreateChatCompletionStreamResponse', chunks)).toEqual([]);
    });

    it('should match CreateChatCompletionStreamResponse for every chunk when a tool call is streamed', async () => {
      const answer = await completions({
        messages: [{ role: 'user', content: 'weather in Paris?' }],
        tools: WEATHER_TOOLS,
        stream: true,
      });
      expect(answer.status).toBe(200);
      const chunks = streamedChunks(answer.text);
      expect(chunks).toContainEqual(
        expect.objectContaining({
          choices: [
            expect.objectContaining({ delta: { tool_calls: [expect.objectContaining({ id: 'toolu_fake01' })] } }),
          ],
        }),
      );
      expect(chunks).toContainEqual(
        expect.objectContaining({ choices: [expect.objectContaining({ finish_reason: 'tool_calls' })] }),
      );
      expect(chunkViolations('CreateChatCompletionStreamResponse', chunks)).toEqual([]);
    });

    it('should match ListModelsResponse when the models are listed', async () => {
      const answer = await call(stack.gatewayUrl, 'GET', '/claude/v1/models', { authorization: `Bearer ${API_KEY}` });
      expect(answer.status).toBe(200);
      const models = json(answer);
      expect(models).toMatchObject({ object: 'list', data: [{ id: 'claude-sonnet-4-5' }, { id: 'claude-haiku-4-5' }] });
      expect(validateOpenAiShape('ListModelsResponse', models)).toEqual([]);
    });

    it('should match ErrorResponse when n: 2 is refused with a 400', async () => {
      const answer = await completions({ n: 2, messages: [{ role: 'user', content: 'x' }] });
      expect(answer.status).toBe(400);
      const body = json(answer);
      expect(body).toMatchObject({ error: { param: 'n' } });
      expect(validateOpenAiShape('ErrorResponse', body)).toEqual([]);
    });

    it('should match ErrorResponse when a request without a key gets a 401', async () => {
      const answer = await call(stack.gatewayUrl, 'POST', '/claude/v1/chat/completions', {
        body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] },
      });
      expect(answer.status).toBe(401);
      expect(validateOpenAiShape('ErrorResponse', json(answer))).toEqual([]);
    });

    it('should match ErrorResponse when the request body is malformed JSON', async () => {
      const response = await fetch(`${stack.gatewayUrl}/claude/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: '{"model":',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      expect(response.status).toBe(400);
      expect(validateOpenAiShape('ErrorResponse', await response.json())).toEqual([]);
    });

    it('should match ErrorResponse when an Anthropic error is turned into an OpenAI one', async () => {
      stack.anthropic.on('POST', '/v1/messages', anthropicError(529, 'overloaded_error', 'Overloaded'));
      const overloaded = await completions({ messages: [{ role: 'user', content: 'x' }] });
      expect(overloaded.status).toBe(503);
      expect(validateOpenAiShape('ErrorResponse', json(overloaded))).toEqual([]);
      stack.anthropic.on('POST', '/v1/messages', anthropicError(429, 'rate_limit_error', 'Slow down'));
      const limited = await completions({ messages: [{ role: 'user', content: 'x' }], stream: true });
      expect(limited.status).toBe(429);
      expect(validateOpenAiShape('ErrorResponse', json(limited))).toEqual([]);
    });

    it('should match the chunk and error schemas when Anthropic fails in the middle of a stream', async () => {
      const frames = [
        encodeSseEventForTest('message_start', {
          type: 'message_start',
          message: { id: 'msg_x', model: 'claude-sonnet-4-5', usage: { input_tokens: 1 } },
        }),
        encodeSseEventForTest('content_block_delta', {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: 'partial' },
        }),
        encodeSseEventForTest('error', {
          type: 'error',
          error: { type: 'overloaded_error', message: 'Overloaded mid-stream' },
        }),
      ];
      stack.anthropic.on('POST', '/v1/messages', sse({ frames }));
      const answer = await completions({ messages: [{ role: 'user', content: 'x' }], stream: true });
      expect(answer.status).toBe(200);
      const chunks = streamedChunks(answer.text);
      const failure = chunks.at(-1);
      expect(failure).toMatchObject({ error: { message: expect.stringContaining('Overloaded') } });
      expect(validateOpenAiShape('ErrorResponse', failure)).toEqual([]);
      expect(chunkViolations('CreateChatCompletionStreamResponse', chunks.slice(0, -1))).toEqual([]);
    });
  });

  describe('the claude.ai route (/claude/<org>/v1)', () => {
    it('should match CreateChatCompletionResponse when claude.ai answers without streaming', async () => {
      const answer = await webCompletions({ messages: [{ role: 'user', content: 'Hi' }] }, `Bearer ${SESSION}`);
      expect(answer.status).toBe(200);
      const completion = json(answer);
      expect(completion).toMatchObject({ choices: [{ message: { content: expect.stringContaining('Hi') } }] });
      expect(validateOpenAiShape('CreateChatCompletionResponse', completion)).toEqual([]);
    });

    it('should match CreateChatCompletionStreamResponse for every chunk when claude.ai streams', async () => {
      const answer = await webCompletions(
        { messages: [{ role: 'user', content: '你好' }], stream: true, stream_options: { include_usage: true } },
        `Bearer ${SESSION}`,
      );
      expect(answer.status).toBe(200);
      expect(answer.contentType).toContain('text/event-stream');
      const chunks = streamedChunks(answer.text);
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunkViolations('CreateChatCompletionStreamResponse', chunks)).toEqual([]);
    });

    it('should match ErrorResponse when the session key is missing or the last message is not the user', async () => {
      const missing = await webCompletions({ messages: [{ role: 'user', content: 'x' }] });
      expect(missing.status).toBe(401);
      expect(validateOpenAiShape('ErrorResponse', json(missing))).toEqual([]);
      const wrongLast = await webCompletions({ messages: [{ role: 'assistant', content: 'x' }] }, `Bearer ${SESSION}`);
      expect(wrongLast.status).toBe(400);
      expect(validateOpenAiShape('ErrorResponse', json(wrongLast))).toEqual([]);
    });
  });
});

describe('OpenAI shapes from the Google bridge (/google/v1), checked against the OpenAI OpenAPI description', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  function completions(body: Record<string, unknown>, authorization?: string): Promise<RawAnswer> {
    return call(stack.gatewayUrl, 'POST', '/google/v1/chat/completions', {
      body: { model: 'gemini-2.5-flash', ...body },
      authorization,
    });
  }

  const withKey = `Bearer ${GEMINI_KEY}`;

  it('should match CreateChatCompletionResponse when a plain text completion is answered', async () => {
    const answer = await completions({ messages: [{ role: 'user', content: 'ping' }] }, withKey);
    expect(answer.status).toBe(200);
    const completion = json(answer);
    expect(completion).toMatchObject({
      choices: [{ finish_reason: 'stop', message: { content: 'Hello from the fake Gemini. You said: ping' } }],
    });
    expect(validateOpenAiShape('CreateChatCompletionResponse', completion)).toEqual([]);
  });

  it('should match CreateChatCompletionResponse when Gemini answers with a function call', async () => {
    const answer = await completions(
      { messages: [{ role: 'user', content: 'weather in Paris?' }], tools: WEATHER_TOOLS },
      withKey,
    );
    expect(answer.status).toBe(200);
    const completion = json(answer);
    expect(completion).toMatchObject({
      choices: [
        {
          finish_reason: 'tool_calls',
          message: {
            content: null,
            tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
        },
      ],
    });
    expect(validateOpenAiShape('CreateChatCompletionResponse', completion)).toEqual([]);
  });

  it('should match CreateChatCompletionStreamResponse for every chunk when a text stream includes usage', async () => {
    const answer = await completions(
      { messages: [{ role: 'user', content: '流式 🚀' }], stream: true, stream_options: { include_usage: true } },
      withKey,
    );
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain('text/event-stream');
    const chunks = streamedChunks(answer.text);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks).toContainEqual(
      expect.objectContaining({ choices: [expect.objectContaining({ finish_reason: 'stop' })] }),
    );
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 13 } });
    expect(chunkViolations('CreateChatCompletionStreamResponse', chunks)).toEqual([]);
  });

  it('should match CreateChatCompletionStreamResponse for every chunk when a function call is streamed', async () => {
    const answer = await completions(
      { messages: [{ role: 'user', content: 'weather in Paris?' }], tools: WEATHER_TOOLS, stream: true },
      withKey,
    );
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain('text/event-stream');
    const chunks = streamedChunks(answer.text);
    expect(chunks).toContainEqual(
      expect.objectContaining({
        choices: [
          expect.objectContaining({
            delta: {
              tool_calls: [
                expect.objectContaining({ index: 0, type: 'function', id: expect.stringMatching(/^call_/) }),
              ],
            },
          }),
        ],
      }),
    );
    expect(chunks).toContainEqual(
      expect.objectContaining({ choices: [expect.objectContaining({ finish_reason: 'tool_calls' })] }),
    );
    expect(chunkViolations('CreateChatCompletionStreamResponse', chunks)).toEqual([]);
  });

  it('should match ListModelsResponse when the models are listed', async () => {
    const answer = await call(stack.gatewayUrl, 'GET', '/google/v1/models', { authorization: withKey });
    expect(answer.status).toBe(200);
    const models = json(answer);
    expect(models).toMatchObject({ object: 'list', data: [{ id: 'gemini-2.5-flash' }, { id: 'gemini-2.5-pro' }] });
    expect(validateOpenAiShape('ListModelsResponse', models)).toEqual([]);
  });

  it('should match ErrorResponse when logprobs: true is refused with a 400', async () => {
    const answer = await completions({ logprobs: true, messages: [{ role: 'user', content: 'x' }] }, withKey);
    expect(answer.status).toBe(400);
    const body = json(answer);
    expect(body).toMatchObject({ error: { param: 'logprobs' } });
    expect(validateOpenAiShape('ErrorResponse', body)).toEqual([]);
  });

  it('should match ErrorResponse when a request without a key gets a 401', async () => {
    const answer = await completions({ messages: [{ role: 'user', content: 'x' }] });
    expect(answer.status).toBe(401);
    expect(validateOpenAiShape('ErrorResponse', json(answer))).toEqual([]);
    const models = await call(stack.gatewayUrl, 'GET', '/google/v1/models');
    expect(models.status).toBe(401);
    expect(validateOpenAiShape('ErrorResponse', json(models))).toEqual([]);
  });
});
