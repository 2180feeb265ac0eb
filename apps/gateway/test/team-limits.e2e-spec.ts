import { estimatePromptTokens } from '@openai-proxy/gateway-util-team';
import { type TestPostgresDatabase, createTestPostgresDatabase, testRedisUrl } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';
import {
  type ReadAnswer,
  type TestConfigFile,
  burst,
  chatBody,
  chatsArrivedWith,
  createGatewayKey,
  keyUsage,
  ledgerRowsOnce,
  postChat,
  readAnswer,
  statusCounts,
  writeGatewayConfig,
} from './support/team';

const POOL_KEY = 'sk-team-limits-0123456789';
/** USD per million tokens, input and output alike: each token costs this many micro-dollars. */
const PRICE_PER_MILLION = 100;
/** What the fake OpenAI reports for every chat: 9 prompt and 7 completion tokens. */
const FAKE_REPORTED_TOKENS = 9 + 7;
const BURST_SIZE = 30;
const MAX_TOKENS = 40;

const LIMITERS = [
  { where: 'in process', redis: false },
  { where: 'in Redis', redis: true },
];

/** The codes of a burst's answers that had `status`. */
function codesOf(answers: readonly ReadAnswer[], status: number): (string | undefined)[] {
  return answers.filter((answer) => answer.status === status).map((answer) => answer.errorCode);
}

describe.each(LIMITERS)('team limits under concurrency, limits kept $where', ({ redis }) => {
  let database: TestPostgresDatabase;
  let config: TestConfigFile;
  let stack: Stack;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    config = writeGatewayConfig(
      `prices:\n  gpt-4o-mini: { input: ${PRICE_PER_MILLION}, output: ${PRICE_PER_MILLION} }\n`,
    );
    stack = await startStack({
      gatewayEnv: {
        GATEWAY_KEYS: 'required',
        DATABASE_URL: database.url,
        OPENAI_API_KEY: POOL_KEY,
        GATEWAY_CONFIG: config.path,
        ...(redis ? { REDIS_URL: testRedisUrl() } : {}),
      },
    });
  });

  afterAll(async () => {
    await stack.close();
    await database.drop();
    config.remove();
  });

  it('should let exactly rpm of 30 parallel requests through and refuse the other 20 with 429 rate_limit_exceeded', async () => {
    const { key } = await createGatewayKey(stack.gateway, { rpm: 10 });
    const answers = await burst(stack.openai, BURST_SIZE, (index) =>
      postChat(stack.gatewayUrl, key, chatBody(`rpm plain ${index}`)),
    );
    expect(statusCounts(answers)).toEqual({ 200: 10, 429: 20 });
    expect(codesOf(answers, 429)).toEqual(Array(20).fill('rate_limit_exceeded'));
    // A minute's window refills: an SDK may retry after Retry-After.
    expect(answers.filter((answer) => answer.status === 429).map((answer) => answer.shouldRetry)).toEqual(
      Array(20).fill(null),
    );
    expect(chatsArrivedWith(stack.openai, 'rpm plain')).toBe(10);
  });

  it('should let exactly rpm of 30 parallel streams through, each streamed whole, and refuse the other 20', async () => {
    const { key } = await createGatewayKey(stack.gateway, { rpm: 10 });
    const answers = await burst(stack.openai, BURST_SIZE, (index) =>
      postChat(stack.gatewayUrl, key, chatBody(`rpm stream ${index}`, { stream: true })),
    );
    expect(statusCounts(answers)).toEqual({ 200: 10, 429: 20 });
    expect(codesOf(answers, 429)).toEqual(Array(20).fill('rate_limit_exceeded'));
    const streamed = answers.filter((answer) => answer.status === 200);
    expect(
      streamed.every((answer) => answer.body.includes('You said: rpm stream') && answer.body.includes('[DONE]')),
    ).toBe(true);
    expect(chatsArrivedWith(stack.openai, 'rpm stream')).toBe(10);
  });

  it('should let exactly as many parallel requests through as their max_tokens and prompt fit in tpm', async () => {
    const body = chatBody('tpm burst', { max_tokens: MAX_TOKENS });
    const reserved = estimatePromptTokens('openai', body) + MAX_TOKENS;
    const fitting = 5;
    const { key } = await createGatewayKey(stack.gateway, { tpm: fitting * reserved + Math.floor(reserved / 2) });
    const answers = await burst(stack.openai, BURST_SIZE, () => postChat(stack.gatewayUrl, key, body));
    expect(statusCounts(answers)).toEqual({ 200: fitting, 429: BURST_SIZE - fitting });
    expect(codesOf(answers, 429)).toEqual(Array(BURST_SIZE - fitting).fill('rate_limit_exceeded'));
    expect(chatsArrivedWith(stack.openai, 'tpm burst')).toBe(fitting);
  });

  // Regression: the prompt estimate counted message text only, so an agent's tool definitions (Claude Code sends
  // thousands of tokens of them) were reserved as nothing.
  it('should reserve no completion for a request that generates none: a tpm below 1024 still lists models and embeds (regression: 429 too large)', async () => {
    const { key } = await createGatewayKey(stack.gateway, { tpm: 800 });
    const models = await fetch(`${stack.gatewayUrl}/openai/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    const embedded = await fetch(`${stack.gatewayUrl}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'small tpm' }),
    });
    expect(embedded.status).toBe(200);
    // A chat that names no maximum still reserves the default allowance, more than this tpm.
    const chat = await readAnswer(await postChat(stack.gatewayUrl, key, chatBody('small tpm chat')));
    expect(chat).toMatchObject({ status: 429, errorCode: 'rate_limit_exceeded' });
  });

  it("should reserve a request's tool definitions: tools alone larger than tpm are refused before the upstream", async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'search',
          description: 'Searches the code base. '.repeat(300),
          parameters: { type: 'object' },
        },
      },
    ];
    const plain = chatBody('tools too large', { max_tokens: MAX_TOKENS });
    const withTools = { ...plain, tools };
    const tpm = estimatePromptTokens('openai', plain) + MAX_TOKENS + 500;
    expect(estimatePromptTokens('openai', withTools) + MAX_TOKENS).toBeGreaterThan(tpm);
    const { key } = await createGatewayKey(stack.gateway, { tpm });
    const refused = await readAnswer(await postChat(stack.gatewayUrl, key, withTools));
    // No wait lets it through: the SDKs are told not to retry it.
    expect(refused).toMatchObject({ status: 429, errorCode: 'rate_limit_exceeded', shouldRetry: 'false' });
    expect(refused.body).toContain('Request too large');
    expect(chatsArrivedWith(stack.openai, 'tools too large')).toBe(0);
    expect((await readAnswer(await postChat(stack.gatewayUrl, key, plain))).status).toBe(200);
  });

  it('should grant exactly the reservations a budget holds, refuse the rest with insufficient_quota, and never let the ledger pass the budget', async () => {
    const body = chatBody('budget burst', { max_tokens: MAX_TOKENS });
    const reservationMicros = (estimatePromptTokens('openai', body) + MAX_TOKENS) * PRICE_PER_MILLION;
    const fitting = 4;
    const budgetMicros = fitting * reservationMicros;
    const { key, id } = await createGatewayKey(stack.gateway, { budgetUsd: budgetMicros / 1_000_000 });
    const answers = await burst(stack.openai, BURST_SIZE, () => postChat(stack.gatewayUrl, key, body));
    expect(statusCounts(answers)).toEqual({ 200: fitting, 429: BURST_SIZE - fitting });
    expect(codesOf(answers, 429)).toEqual(Array(BURST_SIZE - fitting).fill('insufficient_quota'));
    expect(chatsArrivedWith(stack.openai, 'budget burst')).toBe(fitting);

    // Settled on what the fake reported (less than reserved), the budget has room again: one request at a time
    // (each settled before the next) until it is refused.
    let granted = (await ledgerRowsOnce(stack.gateway, database.url, id, fitting)).length;
    let refusal: ReadAnswer | undefined;
    for (let attempt = 0; attempt < BURST_SIZE && refusal === undefined; attempt += 1) {
      const answer = await readAnswer(await postChat(stack.gatewayUrl, key, body));
      if (answer.status === 200) {
        granted += 1;
        await ledgerRowsOnce(stack.gateway, database.url, id, granted);
      } else {
        refusal = answer;
      }
    }
    expect(refusal).toMatchObject({ status: 429, errorCode: 'insufficient_quota', shouldRetry: 'false' });
    expect(granted).toBeGreaterThan(fitting);
    const usage = await keyUsage(stack.gateway, id);
    const spentMicros = Math.round(usage.total.costUsd * 1_000_000);
    expect(spentMicros).toBe(granted * FAKE_REPORTED_TOKENS * PRICE_PER_MILLION);
    expect(spentMicros).toBeLessThanOrEqual(budgetMicros);
    // Refused only when one more reservation no longer fitted beside what was spent.
    expect(spentMicros + reservationMicros).toBeGreaterThan(budgetMicros);
  });
});
