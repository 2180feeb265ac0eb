import { TeamState } from '@openai-proxy/gateway-feature-team';
import {
  type TestPostgresDatabase,
  type TestServer,
  createTestPostgresDatabase,
  startRedisServer,
  testRedisUrl,
} from '@openai-proxy/testing-fakes';
import { z } from 'zod';
import { type Env, type Stack, startStack } from './support/stack';
import {
  FAKE_CHAT_PATH,
  type GatewayReplica,
  burst,
  chatBody,
  chatsArrivedWith,
  createGatewayKey,
  pollFor,
  postChat,
  readAnswer,
  startGatewayReplica,
  statusCounts,
} from './support/team';

const POOL_KEY = 'sk-team-replicas-0123456789';
/** The client's own OpenAI key, for pass-through requests beside gateway keys (GATEWAY_KEYS=optional). */
const CLIENT_PROVIDER_KEY = 'sk-client-own-0123456789';
/** A bound on one request while Redis is down: the limiter gives up on Redis within about a second. */
const REQUEST_BOUND_MS = 8_000;
const RECOVERY_WITHIN_MS = 15_000;
/** A replica trusts a key record it read for a second (KEY_RECORD_TTL_MS); the rest is slack for a loaded machine. */
const REVOKED_ELSEWHERE_WITHIN_MS = 1_500;

/** The part of a `/readyz` answer these tests read. */
const readinessReport = z.object({ checks: z.record(z.string(), z.looseObject({ ok: z.boolean() })) });

describe('two gateway replicas sharing PostgreSQL and Redis', () => {
  let database: TestPostgresDatabase;
  let stack: Stack;
  let replica: GatewayReplica;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    const teamEnv: Env = {
      GATEWAY_KEYS: 'required',
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      OPENAI_API_KEY: POOL_KEY,
    };
    stack = await startStack({ gatewayEnv: teamEnv });
    replica = await startGatewayReplica(stack, teamEnv);
  });

  afterAll(async () => {
    await replica.close();
    await stack.close();
    await database.drop();
  });

  it('should hold one rpm across both: 30 parallel requests spread over the replicas, exactly 10 served', async () => {
    const { key } = await createGatewayKey(stack.gateway, { rpm: 10 });
    const urls = [stack.gatewayUrl, replica.url];
    const answers = await burst(stack.openai, 30, (index) =>
      postChat(urls[index % urls.length] ?? stack.gatewayUrl, key, chatBody(`replicas rpm ${index}`)),
    );
    expect(statusCounts(answers)).toEqual({ 200: 10, 429: 20 });
    expect(
      answers.filter((answer) => answer.status === 429).every((answer) => answer.errorCode === 'rate_limit_exceeded'),
    ).toBe(true);
    expect(chatsArrivedWith(stack.openai, 'replicas rpm')).toBe(10);
  });

  it('should refuse a key revoked in the shared database on replica B within the documented second', async () => {
    const { key, id } = await createGatewayKey(stack.gateway);
    expect((await readAnswer(await postChat(replica.url, key, chatBody('before revocation')))).status).toBe(200);
    await stack.gateway.get(TeamState).keys.revoke(id, new Date());
    const refused = await pollFor(async () => {
      const answer = await readAnswer(await postChat(replica.url, key, chatBody('after revocation')));
      return answer.status === 200 ? undefined : answer;
    }, REVOKED_ELSEWHERE_WITHIN_MS);
    expect(refused).toMatchObject({ status: 401, errorCode: 'invalid_api_key' });
    const again = await readAnswer(await postChat(replica.url, key, chatBody('once refused')));
    expect(again).toMatchObject({ status: 401, errorCode: 'invalid_api_key' });
    expect(chatsArrivedWith(stack.openai, 'once refused')).toBe(0);
  });
});

describe('team limits when Redis goes away and comes back (GATEWAY_KEYS=optional)', () => {
  let database: TestPostgresDatabase;
  let redis: TestServer;
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    redis = await startRedisServer();
    stack = await startStack({
      gatewayEnv: {
        GATEWAY_KEYS: 'optional',
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        OPENAI_API_KEY: POOL_KEY,
      },
    });
    ({ key } = await createGatewayKey(stack.gateway, { rpm: 1000 }));
  });

  afterAll(async () => {
    await stack.close();
    await redis.stop();
    await database.drop();
  });

  function chatWithin(credential: string, content: string): Promise<Response> {
    return postChat(stack.gatewayUrl, credential, chatBody(content), AbortSignal.timeout(REQUEST_BOUND_MS));
  }

  async function readiness(): Promise<{ status: number; limitsOk: boolean | undefined }> {
    const response = await fetch(`${stack.gatewayUrl}/readyz`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
    const report = readinessReport.parse(await response.json());
    return { status: response.status, limitsOk: report.checks['team-limits']?.ok };
  }

  it('should refuse gateway-key requests with 503 while Redis is down, pass provider-key requests, say so in /readyz and the log, and serve again once Redis is back', async () => {
    expect((await readAnswer(await chatWithin(key, 'redis up'))).status).toBe(200);
    expect(await readiness()).toEqual({ status: 200, limitsOk: true });
    const logsFrom = stack.logs.lines.length;

    await redis.stop();
    // The gateway learns of the stop from its Redis connection's close, a turn after it: a lease may serve the
    // requests before that (never after). /readyz answers once it knows.
    const knownBy = Date.now() + REQUEST_BOUND_MS;
    while ((await readiness()).limitsOk !== false && Date.now() < knownBy) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const refused = await readAnswer(await chatWithin(key, 'redis down'));
    expect(refused).toMatchObject({ status: 503, errorCode: 'upstream_unavailable' });
    expect(chatsArrivedWith(stack.openai, 'redis down')).toBe(0);
    expect(await stack.logs.waitFor('refusing gateway-key requests with 503', { from: logsFrom })).toBe(true);
    // Every refusal is not a log line: while the store stays down, one line per ten seconds at most.
    for (const attempt of [1, 2, 3]) {
      expect((await readAnswer(await chatWithin(key, `redis down ${attempt}`))).status).toBe(503);
    }
    const refusalLines = stack.logs.lines.slice(logsFrom).filter((line) => line.includes('refusing gateway-key'));
    expect(refusalLines).toHaveLength(1);
    expect(await readiness()).toEqual({ status: 503, limitsOk: false });
    expect(await stack.logs.waitFor('limit store (Redis) unreachable', { from: logsFrom })).toBe(true);
    // A key without limits has nothing to reserve: it does not wait on the limit store.
    const unlimited = (await createGatewayKey(stack.gateway, {})).key;
    expect((await readAnswer(await chatWithin(unlimited, 'no limits while redis down'))).status).toBe(200);
    const passThrough = await readAnswer(await chatWithin(CLIENT_PROVIDER_KEY, 'provider key while redis down'));
    expect(passThrough.status).toBe(200);
    expect(stack.openai.lastRequest(FAKE_CHAT_PATH)?.headers.authorization).toBe(`Bearer ${CLIENT_PROVIDER_KEY}`);

    redis = await startRedisServer(redis.port);
    const served = await pollFor(async () => {
      const answer = await readAnswer(await chatWithin(key, 'redis back'));
      return answer.status === 200 ? answer : undefined;
    }, RECOVERY_WITHIN_MS);
    expect(served?.status).toBe(200);
    expect(await readiness()).toEqual({ status: 200, limitsOk: true });
    expect(await stack.logs.waitFor('limit store reachable again', { from: logsFrom })).toBe(true);
    expect(stack.logs.text).not.toContain(key);
  });
});
