import { estimatePromptTokens, estimateTextTokens } from '@openai-proxy/gateway-util-team';
import {
  type TestPostgresDatabase,
  createTestPostgresDatabase,
  anthropicMessageStartFrame,
  anthropicTextBlockStartFrame,
  anthropicTextDeltaFrame,
  fakeAnthropicMessages,
  fakeChatCompletions,
  fakeGeminiGenerate,
  json,
  leaveOnceSeen,
  openAiError,
  sse,
} from '@openai-proxy/testing-fakes';
import { PROMPT_USAGE_EVENT, encodeSseData, encodeSseEvent } from '@openai-proxy/util-sse';
import { type Stack, startStack } from './support/stack';
import {
  FAKE_CHAT_PATH,
  type LedgerRow,
  type TestConfigFile,
  askWithHourCacheWrites,
  chatBody,
  createGatewayKey,
  hourCacheWritesAnswer,
  hourCacheWritesUsage,
  ledgerRowsOnce,
  postChat,
  readAnswer,
  writeGatewayConfig,
} from './support/team';

const POOL_KEY = 'sk-team-ledger-0123456789';
/** The fake Gemini's generate routes, as its own start registers them. */
const GEMINI_GENERATE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)/;
/** The Anthropic key the gateway holds, for the native `/anthropic` route's rows. */
const ANTHROPIC_POOL_KEY = 'sk-ant-api03-team-ledger-0123456789';
/** The Gemini key the gateway holds, for the native `/gemini` route's rows. */
const GEMINI_POOL_KEY = 'AIzaTeamLedgerKey0123456789';
/** USD per million tokens: each prompt token costs this many micro-dollars, each completion token OUTPUT_PRICE. */
const INPUT_PRICE = 1000;
const OUTPUT_PRICE = 2000;
/** The prices of prompt tokens read from and written to a provider's cache (no answer of the fake's has any). */
const CACHED_INPUT_PRICE = 100;
const CACHE_WRITE_PRICE = 1250;
/** A prompt of more than LONG_ABOVE_TOKENS tokens is billed at the long-context prices (the fake's are 9 tokens). */
const LONG_ABOVE_TOKENS = 500;
const LONG_INPUT_PRICE = 3000;
const LONG_OUTPUT_PRICE = 5000;

/** An OpenAI stream chunk carrying `content`, as the fake scripts its broken streams. */
function contentChunk(content: string): string {
  return encodeSseData({
    id: 'chatcmpl-ledger',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
  });
}

/** An Anthropic stream's first events: the prompt's counts (1200 fresh, 300 read from the cache), one text delta. */
function anthropicStreamStart(text: string): string[] {
  return [
    anthropicMessageStartFrame('msg_ledger_cut', 'claude-haiku-4-5', {
      input_tokens: 1200,
      cache_read_input_tokens: 300,
      output_tokens: 1,
    }),
    anthropicTextBlockStartFrame(),
    anthropicTextDeltaFrame(text),
  ];
}

/** A Gemini stream chunk with `text`, and the usage each of Gemini's chunks carries (the prompt's count in it). */
function geminiChunk(text: string): string {
  return encodeSseData({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }],
    usageMetadata: { promptTokenCount: 640, cachedContentTokenCount: 128, totalTokenCount: 641 },
    modelVersion: 'gemini-2.5-flash',
  });
}

/** What a row costs at the test's prices, in micro-dollars. */
function costMicros(promptTokens: number, completionTokens: number): number {
  return promptTokens * INPUT_PRICE + completionTokens * OUTPUT_PRICE;
}

/** The row every chat through `/v1/chat/completions` for gpt-4o-mini shares. */
const CHAT_ROW: Partial<LedgerRow> = {
  provider: 'openai',
  modelRequested: 'gpt-4o-mini',
  modelServed: 'gpt-4o-mini',
  route: '/v1/chat/completions',
};

/** A chat answered whole or streamed to its end, with the fake's usage (9 prompt, 7 completion) as the provider's. */
const COMPLETED_CHAT_ROW: Partial<LedgerRow> = {
  ...CHAT_ROW,
  promptTokens: 9,
  completionTokens: 7,
  promptSource: 'provider',
  completionSource: 'provider',
  costMicroUsd: costMicros(9, 7),
  status: 200,
  outcome: 'completed',
  clientAborted: false,
};

/** The counts of a row for hourCacheWritesUsage(30), as Anthropic reported them. */
const HOUR_CACHE_ROW: Partial<LedgerRow> = {
  promptTokens: 1040,
  cachedPromptTokens: 30,
  cacheWritePromptTokens: 1000,
  cacheWrite1hPromptTokens: 800,
  completionTokens: 20,
  promptSource: 'provider',
};

describe('the usage ledger against what the fake upstream reported and delivered', () => {
  let database: TestPostgresDatabase;
  let config: TestConfigFile;
  let stack: Stack;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    config = writeGatewayConfig(
      `prices:\n  gpt-4o-mini: { input: ${INPUT_PRICE}, output: ${OUTPUT_PRICE}, ` +
        `cached_input: ${CACHED_INPUT_PRICE}, cache_write: ${CACHE_WRITE_PRICE}, long_context: ` +
        `{ above_tokens: ${LONG_ABOVE_TOKENS}, input: ${LONG_INPUT_PRICE}, output: ${LONG_OUTPUT_PRICE} } }\n`,
    );
    stack = await startStack({
      gatewayEnv: {
        GATEWAY_KEYS: 'required',
        DATABASE_URL: database.url,
        OPENAI_API_KEY: POOL_KEY,
        ANTHROPIC_API_KEY: ANTHROPIC_POOL_KEY,
        GEMINI_API_KEY: GEMINI_POOL_KEY,
        GATEWAY_CONFIG: config.path,
      },
    });
  });

  afterAll(async () => {
    await stack.close();
    await database.drop();
    config.remove();
  });

  afterEach(() => {
    stack.openai.on('POST', FAKE_CHAT_PATH, fakeChatCompletions);
    stack.anthropic.on('POST', '/v1/messages', fakeAnthropicMessages);
    stack.gemini.on('POST', GEMINI_GENERATE, fakeGeminiGenerate);
  });

  /** The one row a new key's single request left. */
  async function onlyRow(keyId: string): Promise<LedgerRow | undefined> {
    const rows = await ledgerRowsOnce(stack.gateway, database.url, keyId, 1);
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  it("should record an Anthropic answer's cache writes and which of them were 1-hour ones, as Anthropic reported them", async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    await askWithHourCacheWrites(stack, key, 30);
    expect(await onlyRow(id)).toMatchObject({
      provider: 'anthropic',
      route: '/anthropic/v1/messages',
      ...HOUR_CACHE_ROW,
      status: 200,
      outcome: 'completed',
    });
  });

  it.each([
    ['whole', false],
    ['streamed', true],
  ])(
    "should record a translated Claude answer's cache writes and their 1-hour part as Anthropic reported them (%s)",
    async (_name, stream) => {
      stack.anthropic.on(
        'POST',
        '/v1/messages',
        stream
          ? sse({
              frames: [
                anthropicMessageStartFrame('msg_hour', 'claude-sonnet-4-6', {
                  ...hourCacheWritesUsage(30),
                  output_tokens: 1,
                }),
                anthropicTextBlockStartFrame(),
                anthropicTextDeltaFrame('cached for an hour'),
                encodeSseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
                encodeSseEvent('message_delta', {
                  type: 'message_delta',
                  delta: { stop_reason: 'end_turn', stop_sequence: null },
                  usage: { output_tokens: 20 },
                }),
                encodeSseEvent('message_stop', { type: 'message_stop' }),
              ],
            })
          : hourCacheWritesAnswer(30),
      );
      const { key, id } = await createGatewayKey(stack.gateway);
      const answer = await readAnswer(
        await postChat(stack.gatewayUrl, key, { ...chatBody('ledger hour', { stream }), model: 'claude-sonnet-4-6' }),
      );
      expect(answer.status).toBe(200);
      expect(await onlyRow(id)).toMatchObject({
        provider: 'anthropic',
        route: '/v1/chat/completions',
        ...HOUR_CACHE_ROW,
        completionSource: 'provider',
        outcome: 'completed',
      });
    },
  );

  it("should record a native request's route as the path it called, without the query that carried its key", async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const path = '/gemini/v1beta/models/gemini-2.5-flash:generateContent';
    const answer = await fetch(`${stack.gatewayUrl}${path}?key=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'routed' }] }] }),
    });
    expect(answer.status).toBe(200);
    await answer.text();
    const row = await onlyRow(id);
    expect(row).toMatchObject({ provider: 'gemini', route: path, modelRequested: 'gemini-2.5-flash', status: 200 });
    expect(JSON.stringify(row)).not.toContain(key);
    expect(stack.gemini.lastRequest('/v1beta/models')?.headers['x-goog-api-key']).toBe(GEMINI_POOL_KEY);
  });

  it('should record a plain answer with the usage the provider reported (9 prompt, 7 completion), completed', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(await postChat(stack.gatewayUrl, key, chatBody('ledger plain')));
    expect(answer.status).toBe(200);
    expect(await onlyRow(id)).toMatchObject(COMPLETED_CHAT_ROW);
  });

  it("should record and bill the prompt tokens an OpenAI-shaped answer says it read from and wrote to the cache (OpenRouter's cache_write_tokens)", async () => {
    stack.openai.on(
      'POST',
      FAKE_CHAT_PATH,
      json(200, {
        id: 'chatcmpl-cached',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'cached' }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: 100,
          completion_tokens: 7,
          total_tokens: 107,
          prompt_tokens_details: { cached_tokens: 30, cache_write_tokens: 50 },
        },
      }),
    );
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(await postChat(stack.gatewayUrl, key, chatBody('ledger cached')));
    expect(answer.status).toBe(200);
    expect(await onlyRow(id)).toMatchObject({
      ...CHAT_ROW,
      promptTokens: 100,
      completionTokens: 7,
      cachedPromptTokens: 30,
      cacheWritePromptTokens: 50,
      // 20 uncached, 30 read, 50 written, 7 completion tokens.
      costMicroUsd: 20 * INPUT_PRICE + 30 * CACHED_INPUT_PRICE + 50 * CACHE_WRITE_PRICE + 7 * OUTPUT_PRICE,
      outcome: 'completed',
    });
  });

  it('should bill an answer whose prompt is longer than where the long-context prices start at those prices', async () => {
    const answerWithPrompt = (promptTokens: number) =>
      json(200, {
        id: 'chatcmpl-long',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'long' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: 7, total_tokens: promptTokens + 7 },
      });
    for (const [promptTokens, expected] of [
      [LONG_ABOVE_TOKENS, LONG_ABOVE_TOKENS * INPUT_PRICE + 7 * OUTPUT_PRICE],
      [LONG_ABOVE_TOKENS + 1, (LONG_ABOVE_TOKENS + 1) * LONG_INPUT_PRICE + 7 * LONG_OUTPUT_PRICE],
    ]) {
      stack.openai.on('POST', FAKE_CHAT_PATH, answerWithPrompt(promptTokens));
      const { key, id } = await createGatewayKey(stack.gateway);
      expect((await readAnswer(await postChat(stack.gatewayUrl, key, chatBody('ledger long')))).status).toBe(200);
      expect(await onlyRow(id)).toMatchObject({ ...CHAT_ROW, promptTokens, costMicroUsd: expected });
    }
  });

  it('should record a stream with the usage chunk the provider sent, while the client that did not ask never sees it', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(await postChat(stack.gatewayUrl, key, chatBody('ledger stream', { stream: true })));
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('You said: ledger stream');
    expect(answer.body).not.toContain('"usage"');
    expect(await onlyRow(id)).toMatchObject(COMPLETED_CHAT_ROW);
  });

  it('should record a request the provider failed before the first byte with the status the client got, failed, 0 tokens and no cost', async () => {
    stack.openai.on('POST', FAKE_CHAT_PATH, openAiError(500, 'The server had an error', 'server_error'));
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(await postChat(stack.gatewayUrl, key, chatBody('ledger failed')));
    expect(answer.status).toBe(500);
    expect(await onlyRow(id)).toMatchObject({
      ...CHAT_ROW,
      promptTokens: 0,
      completionTokens: 0,
      costMicroUsd: 0,
      status: answer.status,
      outcome: 'failed',
      clientAborted: false,
    });
  });

  it('should record a stream the upstream cut after three chunks as failed, charged the prompt estimate and the delivered text', async () => {
    stack.openai.on(
      'POST',
      FAKE_CHAT_PATH,
      sse({ frames: ['Hello', ' from', ' the', ' fake', ' upstream'].map(contentChunk), resetAfter: 3 }),
    );
    const body = chatBody('ledger cut', { stream: true });
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(await postChat(stack.gatewayUrl, key, body));
    expect(answer.status).toBe(200);
    expect(answer.body).not.toContain(' fake');
    const promptTokens = estimatePromptTokens('openai', body);
    const completionTokens = estimateTextTokens('Hello from the');
    expect(await onlyRow(id)).toMatchObject({
      ...CHAT_ROW,
      promptTokens,
      completionTokens,
      promptSource: 'estimated',
      completionSource: 'estimated',
      costMicroUsd: costMicros(promptTokens, completionTokens),
      status: 200,
      outcome: 'failed',
      clientAborted: false,
    });
  });

  it('should record a stream the client left after the first chunk as aborted, charged for what was delivered, and close the upstream request', async () => {
    stack.openai.on(
      'POST',
      FAKE_CHAT_PATH,
      sse({ frames: [contentChunk('Hello'), contentChunk(' again')], stallAfter: 1 }),
    );
    const body = chatBody('ledger aborted', { stream: true });
    const { key, id } = await createGatewayKey(stack.gateway);
    const read = await leaveOnceSeen(
      stack.gatewayUrl,
      {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      (text) => text.includes('Hello'),
    );
    expect(read).toContain('Hello');
    const upstream = await stack.openai.waitForRequest((request) =>
      request.body.toString('utf8').includes('ledger aborted'),
    );
    await stack.openai.waitForClose(upstream);
    expect(upstream.closedEarly).toBe(true);
    const promptTokens = estimatePromptTokens('openai', body);
    const completionTokens = estimateTextTokens('Hello');
    expect(await onlyRow(id)).toMatchObject({
      ...CHAT_ROW,
      promptTokens,
      completionTokens,
      promptSource: 'estimated',
      completionSource: 'estimated',
      costMicroUsd: costMicros(promptTokens, completionTokens),
      status: 200,
      outcome: 'aborted',
      clientAborted: true,
    });
  });

  it("should record a translated stream Anthropic cut after its message_start with Anthropic's prompt counts, only the completion estimated, and keep the counts' event from the client", async () => {
    stack.anthropic.on('POST', '/v1/messages', sse({ frames: anthropicStreamStart('Partial answer'), resetAfter: 3 }));
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(
      await postChat(stack.gatewayUrl, key, {
        ...chatBody('ledger claude cut', { stream: true }),
        model: 'claude-haiku-4-5',
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Partial answer');
    expect(answer.body).not.toContain(PROMPT_USAGE_EVENT);
    expect(answer.body).not.toContain('prompt_tokens');
    expect(await onlyRow(id)).toMatchObject({
      provider: 'anthropic',
      modelRequested: 'claude-haiku-4-5',
      promptTokens: 1500,
      cachedPromptTokens: 300,
      completionTokens: estimateTextTokens('Partial answer'),
      promptSource: 'provider',
      completionSource: 'estimated',
      status: 200,
      outcome: 'failed',
      clientAborted: false,
    });
  });

  it("should record a /claude/v1 stream the client left after its first text with Anthropic's prompt counts, aborted", async () => {
    stack.anthropic.on(
      'POST',
      '/v1/messages',
      sse({ frames: [...anthropicStreamStart('Left early'), ...anthropicStreamStart(' never sent')], stallAfter: 3 }),
    );
    const { key, id } = await createGatewayKey(stack.gateway);
    const body = { ...chatBody('ledger claude aborted', { stream: true }), model: 'claude-haiku-4-5' };
    const read = await leaveOnceSeen(
      stack.gatewayUrl,
      {
        method: 'POST',
        path: '/claude/v1/chat/completions',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      (text) => text.includes('Left early'),
    );
    expect(read).not.toContain(PROMPT_USAGE_EVENT);
    expect(await onlyRow(id)).toMatchObject({
      provider: 'anthropic',
      route: '/claude/v1/chat/completions',
      promptTokens: 1500,
      cachedPromptTokens: 300,
      completionTokens: estimateTextTokens('Left early'),
      promptSource: 'provider',
      completionSource: 'estimated',
      outcome: 'aborted',
      clientAborted: true,
    });
  });

  it("should record a translated Gemini stream cut after two chunks with Gemini's prompt count", async () => {
    stack.gemini.on(
      'POST',
      GEMINI_GENERATE,
      sse({ frames: [geminiChunk('Gemini'), geminiChunk(' partly'), geminiChunk(' more')], resetAfter: 2 }),
    );
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(
      await postChat(stack.gatewayUrl, key, {
        ...chatBody('ledger gemini cut', { stream: true }),
        model: 'gemini-2.5-flash',
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).not.toContain(PROMPT_USAGE_EVENT);
    expect(await onlyRow(id)).toMatchObject({
      provider: 'gemini',
      promptTokens: 640,
      cachedPromptTokens: 128,
      completionTokens: estimateTextTokens('Gemini partly'),
      promptSource: 'provider',
      completionSource: 'estimated',
      outcome: 'failed',
    });
  });

  it('should keep recording a completed translated stream with the usage chunk the bridge sent at its end', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    const answer = await readAnswer(
      await postChat(stack.gatewayUrl, key, {
        ...chatBody('ledger claude whole', { stream: true }),
        model: 'claude-haiku-4-5',
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).not.toContain(PROMPT_USAGE_EVENT);
    expect(await onlyRow(id)).toMatchObject({
      provider: 'anthropic',
      promptSource: 'provider',
      completionSource: 'provider',
      outcome: 'completed',
    });
  });
});
