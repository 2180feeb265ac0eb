import OpenAI from 'openai';
import request from 'supertest';
import { captureLog, fakeGeminiGenerate, geminiError, sse } from '@openai-proxy/testing-fakes';
import { type BardBridgeOnFakes, startBardBridgeOnFakes } from './support/bard-bridge-app';

const KEY = 'AIzaTestKey0123456789';

describe('Gemini through the Gemini API, OpenAI-style (official openai SDK against the bard-bridge)', () => {
  const log = captureLog();
  let client: OpenAI;
  let bridge: BardBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startBardBridgeOnFakes({ LOG_LEVEL: 'debug' }, { logDestination: log.destination });
    client = new OpenAI({ apiKey: KEY, baseURL: `${bridge.url}/google/v1`, maxRetries: 0 });
  });

  afterAll(() => bridge.close());

  afterEach(() => {
    bridge.gemini.on(
      'POST',
      /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/,
      fakeGeminiGenerate,
    );
  });

  function lastGenerate(): { url: string; key: unknown; body: Record<string, unknown> } {
    const arrived = [...bridge.gemini.requests]
      .reverse()
      .find((candidate) => candidate.url.startsWith('/v1beta/models/'));
    return {
      url: arrived?.url ?? '',
      key: arrived?.headers['x-goog-api-key'],
      body: JSON.parse(arrived?.body.toString() ?? '{}') as Record<string, unknown>,
    };
  }

  it('should answer a chat completion with the key in x-goog-api-key, never in the URL', async () => {
    const completion = await client.chat.completions.create({
      model: 'models/gemini-2.5-flash',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake Gemini. You said: ping');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({ prompt_tokens: 8, completion_tokens: 5, total_tokens: 13 });
    const sent = lastGenerate();
    expect(sent.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(sent.key).toBe(KEY);
    expect(sent.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'ping' }] }] });
  });

  it('should map system, roles, images, tools, tool results and generation settings', async () => {
    await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      temperature: 0.3,
      top_p: 0.8,
      max_tokens: 200,
      stop: ['END'],
      n: 2,
      response_format: { type: 'json_object' },
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } },
        },
      ],
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AA==' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":18}' },
        { role: 'user', content: 'and?' },
      ],
    });
    expect(lastGenerate().body).toEqual({
      contents: [
        { role: 'user', parts: [{ text: 'look' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/AA==' } }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 18 } } }, { text: 'and?' }],
        },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: {
        temperature: 0.3,
        topP: 0.8,
        maxOutputTokens: 200,
        stopSequences: ['END'],
        candidateCount: 2,
        responseMimeType: 'application/json',
      },
      tools: [
        {
          functionDeclarations: [
            { name: 'get_weather', description: 'Weather', parametersJsonSchema: { type: 'object', properties: {} } },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });
  });

  it('should stream text deltas, a finish reason, usage on request and [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: '你好 🚀' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    const finish: Array<string | null> = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      finish.push(chunk.choices[0]?.finish_reason ?? null);
      usage = chunk.usage ?? usage;
    }
    expect(pieces.join('')).toBe('Hello from the fake Gemini. You said: 你好 🚀');
    expect(finish.filter((reason) => reason !== null)).toEqual(['stop']);
    expect(usage).toEqual({ prompt_tokens: 8, completion_tokens: 5, total_tokens: 13 });
    expect(lastGenerate().url).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('should turn function calls into tool_calls, streamed and not', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ];
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'weather?' }],
      tools,
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.tool_calls?.[0]).toEqual(
      expect.objectContaining({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }),
    );
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'weather?' }],
      tools,
      stream: true,
    });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([JSON.parse(args) as unknown, finish]).toEqual([{ city: 'Paris' }, 'tool_calls']);
  });

  it('should map safety stops to content_filter and errors to OpenAI errors with their status', async () => {
    bridge.gemini.on('POST', /:generateContent$/, (arrived, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'SAFETY', index: 0 }],
        }),
      );
      void arrived;
    });
    const filtered = await client.chat.completions.create({ model: 'g', messages: [{ role: 'user', content: 'x' }] });
    expect(filtered.choices[0]?.finish_reason).toBe('content_filter');
    bridge.gemini.on(
      'POST',
      /:generateContent$/,
      geminiError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', { 'retry-after': '30' }),
    );
    const limited = await client.chat.completions
      .create({ model: 'g', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('30');
    const badKey = await new OpenAI({ apiKey: 'nope', baseURL: `${bridge.url}/google/v1`, maxRetries: 0 }).models
      .list()
      .catch((caught: unknown) => caught);
    // Gemini answers a bad key 400 INVALID_ARGUMENT (reason API_KEY_INVALID): the SDK gets its authentication error.
    expect(badKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((badKey as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((badKey as InstanceType<typeof OpenAI.APIError>).message).toContain('API key not valid');
  });

  it('should end a stream that stops before its finishReason with an error', async () => {
    bridge.gemini.on(
      'POST',
      /:streamGenerateContent$/,
      sse({
        frames: [
          `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'part' }] }, index: 0 }] })}\n\n`,
        ],
      }),
    );
    const outcome = await (async () => {
      for await (const chunk of await client.chat.completions.create({
        model: 'g',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      })) {
        void chunk;
      }
      return 'completed';
    })().catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(OpenAI.APIError);
  });

  it('should list models without the models/ prefix and refuse unsupported parameters', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['gemini-2.5-flash', 'gemini-2.5-pro']);
    const refused = await client.chat.completions
      .create({ model: 'g', logprobs: true, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('logprobs');
    const httpImage = await client.chat.completions
      .create({
        model: 'g',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
      })
      .catch((caught: unknown) => caught);
    expect((httpImage as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(
      'messages[0].content[0].image_url.url',
    );
  });

  it('should relay /gemini/** transparently, ?key= and the OpenAI-compatible paths included, without logging the key', async () => {
    const listed = await request(bridge.url).get(`/gemini/v1beta/models?key=${KEY}`);
    expect(listed.status).toBe(200);
    expect(bridge.gemini.lastRequest('/v1beta/models')?.url).toBe(`/v1beta/models?key=${KEY}`);
    const streamed = await request(bridge.url)
      .post('/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse')
      .set('x-goog-api-key', KEY)
      .send({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    expect(streamed.text).toContain('"finishReason":"STOP"');
    const compat = new OpenAI({ apiKey: KEY, baseURL: `${bridge.url}/gemini/v1beta/openai`, maxRetries: 0 });
    const answer = await compat.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(answer.choices[0]?.message.content).toBe('compat');
    expect(bridge.gemini.lastRequest('/v1beta/openai')?.headers['x-goog-api-key']).toBe(KEY);
    expect(bridge.gemini.lastRequest('/v1beta/openai')?.headers.authorization).toBeUndefined();
    expect(log.text()).toContain('/gemini/v1beta/models');
    expect(log.text()).not.toContain('TestKey0123456789');
  });
});
