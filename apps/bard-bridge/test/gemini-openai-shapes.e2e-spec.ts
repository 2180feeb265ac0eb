// Every OpenAI-shaped object the bard-bridge's Gemini routes produce, read as raw HTTP and checked against the
// schemas of OpenAI's own OpenAPI description (extracted into the testing-fakes lib) rather than our own types.
import {
  answerJson,
  chunkViolations,
  rawCall,
  type RawAnswer,
  streamedChunks,
  validateOpenAiShape,
  WEATHER_TOOLS,
} from '@openai-proxy/testing-fakes';
import { type BardBridgeOnFakes, startBardBridgeOnFakes } from './support/bard-bridge-app';

const GEMINI_KEY = 'AIzaTestKey0123';

describe('OpenAI shapes from the bard-bridge (/google/v1), checked against the OpenAI OpenAPI description', () => {
  let bridge: BardBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startBardBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  function completions(body: Record<string, unknown>, authorization?: string): Promise<RawAnswer> {
    return rawCall(bridge.url, 'POST', '/google/v1/chat/completions', {
      body: { model: 'gemini-2.5-flash', ...body },
      authorization,
    });
  }

  const withKey = `Bearer ${GEMINI_KEY}`;

  it('should match CreateChatCompletionResponse when a plain text completion is answered', async () => {
    const answer = await completions({ messages: [{ role: 'user', content: 'ping' }] }, withKey);
    expect(answer.status).toBe(200);
    const completion = answerJson(answer);
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
    const completion = answerJson(answer);
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
    const answer = await rawCall(bridge.url, 'GET', '/google/v1/models', { authorization: withKey });
    expect(answer.status).toBe(200);
    const models = answerJson(answer);
    expect(models).toMatchObject({ object: 'list', data: [{ id: 'gemini-2.5-flash' }, { id: 'gemini-2.5-pro' }] });
    expect(validateOpenAiShape('ListModelsResponse', models)).toEqual([]);
  });

  it('should match ErrorResponse when logprobs: true is refused with a 400', async () => {
    const answer = await completions({ logprobs: true, messages: [{ role: 'user', content: 'x' }] }, withKey);
    expect(answer.status).toBe(400);
    const body = answerJson(answer);
    expect(body).toMatchObject({ error: { param: 'logprobs' } });
    expect(validateOpenAiShape('ErrorResponse', body)).toEqual([]);
  });

  it('should match ErrorResponse when a request without a key gets a 401', async () => {
    const answer = await completions({ messages: [{ role: 'user', content: 'x' }] });
    expect(answer.status).toBe(401);
    expect(validateOpenAiShape('ErrorResponse', answerJson(answer))).toEqual([]);
    const models = await rawCall(bridge.url, 'GET', '/google/v1/models');
    expect(models.status).toBe(401);
    expect(validateOpenAiShape('ErrorResponse', answerJson(models))).toEqual([]);
  });
});
