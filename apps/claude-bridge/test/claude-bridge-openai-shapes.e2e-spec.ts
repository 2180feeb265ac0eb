// Every OpenAI-shaped object the claude-bridge produces, read as raw HTTP and checked against the schemas of OpenAI's
// own OpenAPI description (extracted into the testing-fakes lib) rather than our own types.
import {
  anthropicError,
  answerJson,
  chunkViolations,
  fakeAnthropicMessages,
  rawCall,
  type RawAnswer,
  sse,
  streamedChunks,
  validateOpenAiShape,
  WEATHER_TOOLS,
} from '@openai-proxy/testing-fakes';
import { encodeSseEvent } from '@openai-proxy/util-sse';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const API_KEY = 'sk-ant-test-key';
const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const SESSION = 'sk-ant-sid01-x';
const REQUEST_TIMEOUT_MS = 10_000;

describe('OpenAI shapes from the claude-bridge, checked against the OpenAI OpenAPI description', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  afterEach(() => {
    bridge.anthropic.on('POST', '/v1/messages', fakeAnthropicMessages);
  });

  function completions(body: Record<string, unknown>, authorization = `Bearer ${API_KEY}`): Promise<RawAnswer> {
    return rawCall(bridge.url, 'POST', '/claude/v1/chat/completions', {
      body: { model: 'claude-sonnet-4-6', ...body },
      authorization,
    });
  }

  function webCompletions(body: Record<string, unknown>, authorization?: string): Promise<RawAnswer> {
    return rawCall(bridge.url, 'POST', `/claude/${ORG}/v1/chat/completions`, {
      body: { model: 'claude-2.1', ...body },
      authorization,
    });
  }

  describe('the Anthropic API route (/claude/v1)', () => {
    it('should match CreateChatCompletionResponse when a plain text completion is answered', async () => {
      const answer = await completions({ messages: [{ role: 'user', content: 'ping' }] });
      expect(answer.status).toBe(200);
      const completion = answerJson(answer);
      expect(completion).toMatchObject({ choices: [{ message: { content: expect.stringContaining('ping') } }] });
      expect(validateOpenAiShape('CreateChatCompletionResponse', completion)).toEqual([]);
    });

    it('should match CreateChatCompletionResponse when Claude answers with a tool call', async () => {
      const answer = await completions({
        messages: [{ role: 'user', content: 'weather in Paris?' }],
        tools: WEATHER_TOOLS,
      });
      expect(answer.status).toBe(200);
      const completion = answerJson(answer);
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
      const answer = await rawCall(bridge.url, 'GET', '/claude/v1/models', { authorization: `Bearer ${API_KEY}` });
      expect(answer.status).toBe(200);
      const models = answerJson(answer);
      expect(models).toMatchObject({ object: 'list', data: [{ id: 'claude-sonnet-4-6' }, { id: 'claude-haiku-4-5' }] });
      expect(validateOpenAiShape('ListModelsResponse', models)).toEqual([]);
    });

    it('should match ErrorResponse when n: 2 is refused with a 400', async () => {
      const answer = await completions({ n: 2, messages: [{ role: 'user', content: 'x' }] });
      expect(answer.status).toBe(400);
      const body = answerJson(answer);
      expect(body).toMatchObject({ error: { param: 'n' } });
      expect(validateOpenAiShape('ErrorResponse', body)).toEqual([]);
    });

    it('should match ErrorResponse when a request without a key gets a 401', async () => {
      const answer = await rawCall(bridge.url, 'POST', '/claude/v1/chat/completions', {
        body: { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x' }] },
      });
      expect(answer.status).toBe(401);
      expect(validateOpenAiShape('ErrorResponse', answerJson(answer))).toEqual([]);
    });

    it('should match ErrorResponse when the request body is malformed JSON', async () => {
      const response = await fetch(`${bridge.url}/claude/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: '{"model":',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      expect(response.status).toBe(400);
      expect(validateOpenAiShape('ErrorResponse', await response.json())).toEqual([]);
    });

    it('should match ErrorResponse when an Anthropic error is turned into an OpenAI one', async () => {
      bridge.anthropic.on('POST', '/v1/messages', anthropicError(529, 'overloaded_error', 'Overloaded'));
      const overloaded = await completions({ messages: [{ role: 'user', content: 'x' }] });
      expect(overloaded.status).toBe(503);
      expect(validateOpenAiShape('ErrorResponse', answerJson(overloaded))).toEqual([]);
      bridge.anthropic.on('POST', '/v1/messages', anthropicError(429, 'rate_limit_error', 'Slow down'));
      const limited = await completions({ messages: [{ role: 'user', content: 'x' }], stream: true });
      expect(limited.status).toBe(429);
      expect(validateOpenAiShape('ErrorResponse', answerJson(limited))).toEqual([]);
    });

    it('should match the chunk and error schemas when Anthropic fails in the middle of a stream', async () => {
      const frames = [
        encodeSseEvent('message_start', {
          type: 'message_start',
          message: { id: 'msg_x', model: 'claude-sonnet-4-6', usage: { input_tokens: 1 } },
        }),
        encodeSseEvent('content_block_delta', {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: 'partial' },
        }),
        encodeSseEvent('error', {
          type: 'error',
          error: { type: 'overloaded_error', message: 'Overloaded mid-stream' },
        }),
      ];
      bridge.anthropic.on('POST', '/v1/messages', sse({ frames }));
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
      const completion = answerJson(answer);
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
      expect(validateOpenAiShape('ErrorResponse', answerJson(missing))).toEqual([]);
      const wrongLast = await webCompletions({ messages: [{ role: 'assistant', content: 'x' }] }, `Bearer ${SESSION}`);
      expect(wrongLast.status).toBe(400);
      expect(validateOpenAiShape('ErrorResponse', answerJson(wrongLast))).toEqual([]);
    });
  });
});
