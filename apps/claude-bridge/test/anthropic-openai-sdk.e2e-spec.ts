import OpenAI from 'openai';
import request from 'supertest';
import { anthropicError, fakeAnthropicMessages, sse } from '@openai-proxy/testing-fakes';
import { encodeSseEvent } from '@openai-proxy/util-sse';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

describe('Claude through the Anthropic API, OpenAI-style (official openai SDK against the claude-bridge)', () => {
  let client: OpenAI;
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
    client = new OpenAI({ apiKey: 'sk-ant-api03-test-key', baseURL: `${bridge.url}/claude/v1`, maxRetries: 0 });
  });

  afterAll(() => bridge.close());

  afterEach(() => {
    bridge.anthropic.on('POST', '/v1/messages', fakeAnthropicMessages);
  });

  function lastMessagesBody(): Record<string, unknown> {
    return JSON.parse(bridge.anthropic.lastRequest('/v1/messages')?.body.toString() ?? '{}') as Record<string, unknown>;
  }

  it('should answer a chat completion and send the API key as x-api-key with anthropic-version', async () => {
    const completion = await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake Anthropic upstream. You said: ping');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.id).toBe('chatcmpl-msg_fake01');
    expect(completion.object).toBe('chat.completion');
    expect(Number.isInteger(completion.created) && completion.created < 1e11).toBe(true);
    expect(completion.usage).toEqual({
      prompt_tokens: 16,
      completion_tokens: 7,
      total_tokens: 23,
      prompt_tokens_details: { cached_tokens: 3, cache_write_tokens: 2 },
    });
    const arrived = bridge.anthropic.lastRequest('/v1/messages');
    expect(arrived?.headers['x-api-key']).toBe('sk-ant-api03-test-key');
    expect(arrived?.headers['anthropic-version']).toBe('2023-06-01');
    expect(arrived?.headers.authorization).toBeUndefined();
    expect(lastMessagesBody()).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'ping' }] }],
    });
  });

  it('should map system, developer, multi-turn, images, stop, temperature, user and tool rules', async () => {
    await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      max_completion_tokens: 300,
      temperature: 1.7,
      top_p: 0.9,
      stop: 'END',
      user: 'user-42',
      parallel_tool_calls: false,
      tool_choice: 'required',
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'first' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Calling.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(lastMessagesBody()).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      system: 'Be brief.\n\nAnswer in French.',
      // top_p is left out beside a temperature: Claude's newer models refuse the two together.
      temperature: 1,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
      tools: [
        {
          name: 'get_weather',
          description: 'Weather',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'first' },
            { type: 'text', text: 'look' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Calling.' },
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
            { type: 'text', text: 'thanks' },
          ],
        },
      ],
    });
  });

  it('should stream text deltas as chunks with a finish reason, usage on request, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: '流式 🚀' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    const finish: Array<string | null> = [];
    let usage: OpenAI.CompletionUsage | undefined;
    const ids = new Set<string>();
    for await (const chunk of stream) {
      ids.add(chunk.id);
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      finish.push(chunk.choices[0]?.finish_reason ?? null);
      usage = chunk.usage ?? usage;
    }
    expect(pieces.join('')).toBe('Hello from the fake Anthropic upstream. You said: 流式 🚀');
    expect(finish.filter((reason) => reason !== null)).toEqual(['stop']);
    expect(usage).toEqual({
      prompt_tokens: 16,
      completion_tokens: 7,
      total_tokens: 23,
      prompt_tokens_details: { cached_tokens: 3, cache_write_tokens: 2 },
    });
    expect([...ids]).toEqual(['chatcmpl-msg_fake01']);
    expect(lastMessagesBody()['stream']).toBe(true);
  });

  it('should stream a tool call as tool_calls deltas and answer one without streaming', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ];
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools,
      stream: true,
    });
    let name = '';
    let args = '';
    let id = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      expect(call === undefined || call.index === 0).toBe(true);
      id = call?.id ?? id;
      name += call?.function?.name ?? '';
      args += call?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect({ id, name, args: JSON.parse(args) as unknown, finish }).toEqual({
      id: 'toolu_fake01',
      name: 'get_weather',
      args: { city: 'Paris', unit: 'celsius' },
      finish: 'tool_calls',
    });
    const completion = await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'weather?' }],
      tools,
    });
    expect(completion.choices[0]?.message.tool_calls?.[0]).toEqual({
      id: 'toolu_fake01',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
    });
    expect(completion.choices[0]?.message.content).toBeNull();
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('should list Anthropic models OpenAI-style', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5']);
    expect(models.data[0]?.owned_by).toBe('anthropic');
  });

  it('should refuse unsupported parameters with a 400 that names them, before any upstream call', async () => {
    const before = bridge.anthropic.requests.length;
    const error = await client.chat.completions
      .create({ model: 'claude-sonnet-4-6', n: 2, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    const invalid = await request(bridge.url)
      .post('/claude/v1/chat/completions')
      .set('Authorization', 'Bearer sk-ant-x')
      .send({ model: 'c', messages: [{ role: 'wizard', content: 'x' }] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.param).toBe('messages[0].role');
    const malformed = await request(bridge.url)
      .post('/claude/v1/chat/completions')
      .set('Authorization', 'Bearer sk-ant-x')
      .set('Content-Type', 'application/json')
      .send('{"model":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.type).toBe('invalid_request_error');
    expect(bridge.anthropic.requests.length).toBe(before);
  });

  it('should answer 401 without a key', async () => {
    const response = await request(bridge.url)
      .post('/claude/v1/chat/completions')
      .send({ model: 'c', messages: [{ role: 'user', content: 'x' }] });
    expect(response.status).toBe(401);
    expect(response.body.error.message).toContain('x-api-key');
  });

  it('should turn upstream errors into OpenAI errors: 529 overloaded is 503, 429 keeps Retry-After', async () => {
    bridge.anthropic.on('POST', '/v1/messages', anthropicError(529, 'overloaded_error', 'Overloaded'));
    const overloaded = await client.chat.completions
      .create({ model: 'c', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).message).toContain('Overloaded');
    bridge.anthropic.on(
      'POST',
      '/v1/messages',
      anthropicError(429, 'rate_limit_error', 'Slow down', { 'retry-after': '12' }),
    );
    const limited = await client.chat.completions
      .create({ model: 'c', messages: [{ role: 'user', content: 'x' }], stream: true })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('12');
  });

  // Regression (review): a reset while reading a whole answer was a 500 internal_error.
  it('should answer 502 when the connection resets while the answer is being read', async () => {
    bridge.anthropic.on('POST', '/v1/messages', (_arrived, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"id":"msg_cut","type":"message"', () => response.socket?.destroy());
    });
    const error = await client.chat.completions
      .create({ model: 'c', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it('should end a stream with an error when Anthropic sends a mid-stream error event or cuts it', async () => {
    const start = encodeSseEvent('message_start', {
      type: 'message_start',
      message: { id: 'msg_x', model: 'c', usage: { input_tokens: 1 } },
    });
    const delta = encodeSseEvent('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'partial' },
    });
    const failure = encodeSseEvent('error', {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded mid-stream' },
    });
    for (const frames of [
      [start, delta, failure],
      [start, delta],
    ]) {
      bridge.anthropic.on('POST', '/v1/messages', sse({ frames }));
      const received: string[] = [];
      const outcome = await (async () => {
        for await (const chunk of await client.chat.completions.create({
          model: 'c',
          messages: [{ role: 'user', content: 'x' }],
          stream: true,
        })) {
          received.push(chunk.choices[0]?.delta.content ?? '');
        }
        return 'completed';
      })().catch((error: unknown) => error);
      expect(received.join('')).toBe('partial');
      expect(outcome).toBeInstanceOf(OpenAI.APIError);
    }
  });
});
