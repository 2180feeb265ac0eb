import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { z } from 'zod';
import { usageAnswerSchema } from '@openai-proxy/gateway-feature-team';
import {
  type FakeUpstream,
  createTestPostgresDatabase,
  startFakeOpenAi,
  testRedisUrl,
} from '@openai-proxy/testing-fakes';
import { ADMIN_TOKEN, callJson, eventually, teamClient } from './support/admin-api';
import { type CliRun, runKeysCli } from './support/keys-cli';
import { type Env, type Stack, startStack } from './support/stack';
import { type TestConfigFile, startGatewayReplica, writeGatewayConfig } from './support/team';

/*
 * Issue 12's "Done when", told as one story: a team lead starts the gateway with provider keys and an admin token,
 * creates two keys with the CLI, member A uses the official OpenAI SDK on /v1 with every provider's models, member
 * B uses the Anthropic SDK on /anthropic (as Claude Code does) and hits its rpm, and the usage answers show exactly
 * what the fakes reported. Once on one gateway with SQLite, once on two replicas sharing PostgreSQL and Redis.
 */

const OPENAI_TEAM_KEY = 'sk-team-openai-done-0123456789';
const ANTHROPIC_TEAM_KEY = 'sk-ant-api03-team-done-0123456789';
const GEMINI_TEAM_KEY = 'AIzaTeamDoneWhen0123456789';
const MIRROR_TEAM_KEY = 'sk-team-mirror-done-0123456789';
/** The configured OpenAI-compatible provider's model (its declared prefix is `mirror-*`). */
const MIRROR_MODEL = 'mirror-chat';
const CLAUDE_MODEL = 'claude-sonnet-4-6';
/** The model member B's Claude Code asks for (the Anthropic SDK warns about claude-sonnet-4-6 as deprecated). */
const CLAUDE_CODE_MODEL = 'claude-haiku-4-5';
const GEMINI_MODEL = 'gemini-2.5-flash';
const GPT_MODEL = 'gpt-4o-mini';
/** The limited member's requests per minute: its 4th request within the minute is refused. */
const LIMITED_RPM = 3;
const DAY_MS = 86_400_000;
/** Yesterday to tomorrow (UTC): the days this run's rows fall on, even when it runs over midnight or a month's end. */
const FIRST_DAY = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
const LAST_DAY = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
const RUN_DAYS = `start_date=${FIRST_DAY}&end_date=${LAST_DAY}`;

interface Tokens {
  prompt: number;
  completion: number;
}

/**
 * What each fake reports for one chat, as the gateway reads it (libs/shared/testing-fakes/src/lib/fake-*.ts):
 * the fake OpenAI counts 9 prompt tokens and one completion token per answer word (7 words); the fake Anthropic
 * reports 11 input, 2 cache-creation and 3 cache-read tokens (all prompt, on /anthropic and as the claude bridge
 * maps them) and one output token per answer word (7 words); the fake Gemini's usageMetadata is 8 prompt and 5
 * candidates tokens (no thoughts), which the google bridge maps to 8 prompt and 5 completion tokens.
 */
const FAKE_OPENAI_CHAT: Tokens = { prompt: 9, completion: 7 };
const FAKE_ANTHROPIC_MESSAGE: Tokens = { prompt: 11 + 2 + 3, completion: 7 };
const FAKE_GEMINI_GENERATE: Tokens = { prompt: 8, completion: 5 };

/** Prices in USD per million tokens, written to the config file: whole micro-dollars per request, so sums are exact. */
const PRICES: Readonly<Record<string, { input: number; output: number }>> = {
  [GPT_MODEL]: { input: 1, output: 2 },
  [CLAUDE_MODEL]: { input: 3, output: 4 },
  [CLAUDE_CODE_MODEL]: { input: 9, output: 10 },
  [GEMINI_MODEL]: { input: 5, output: 6 },
  [MIRROR_MODEL]: { input: 7, output: 8 },
};

/** A usage row's counts, as the usage answers write them. */
interface UsageCounts {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

/** The usage of `requests` chats of `model`, each reporting `tokens`, at the model's price. */
function usageOf(model: string, tokens: Tokens, requests = 1): UsageCounts {
  const price = PRICES[model] ?? { input: 0, output: 0 };
  const microUsd = requests * (tokens.prompt * price.input + tokens.completion * price.output);
  return {
    requests,
    prompt_tokens: requests * tokens.prompt,
    completion_tokens: requests * tokens.completion,
    cost_usd: microUsd / 1_000_000,
  };
}

/** Several usage rows added up. */
function sumOf(...rows: readonly UsageCounts[]): UsageCounts {
  const micro = rows.reduce((sum, row) => sum + Math.round(row.cost_usd * 1_000_000), 0);
  return {
    requests: rows.reduce((sum, row) => sum + row.requests, 0),
    prompt_tokens: rows.reduce((sum, row) => sum + row.prompt_tokens, 0),
    completion_tokens: rows.reduce((sum, row) => sum + row.completion_tokens, 0),
    cost_usd: micro / 1_000_000,
  };
}

/** Usage rows in the order of their groups (the contract does not fix an order). */
function byGroup<T extends { group: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}

/** Usage rows by model as an answer lists them. */
function modelRows(rows: Readonly<Record<string, UsageCounts>>): Array<{ group: string } & UsageCounts> {
  return byGroup(Object.entries(rows).map(([group, counts]) => ({ group, ...counts })));
}

/** A key the lead created with the CLI: its id from the first line, the key itself from the last. */
interface CliKey {
  id: string;
  key: string;
}

function createdKeyOf(run: CliRun): CliKey {
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const lines = run.stdout.trimEnd().split('\n');
  const id = /^created (key_[A-Za-z0-9_-]+) \(/.exec(lines[0] ?? '')?.[1];
  const key = lines.at(-1) ?? '';
  expect(key).toMatch(/^gk-[A-Za-z0-9_-]{32,}$/);
  if (id === undefined) {
    throw new Error(`no key id in the CLI's output: ${run.stdout}`);
  }
  return { id, key };
}

/** The gateway's OpenAI error envelope, as an SDK hands it over in its error's body. */
const errorBodySchema = z.object({ error: z.object({ code: z.string() }) });

/** The model a request to a fake named. */
const sentModelSchema = z.object({ model: z.string() });

/** What a promise was rejected with; fails the test when it was fulfilled. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('the request was served, a refusal was expected');
    },
    (error: unknown) => error,
  );
}

/** The team as it runs: the stack, the gateways the members reach (twice the same one with one replica). */
interface TeamRun {
  stack: Stack;
  /** The first gateway (the lead's) and the second (the same one, or another replica). */
  gateways: readonly [string, string];
  /** Every log line the apps wrote. */
  logText(): string;
  close(): Promise<void>;
}

/** One way to run the team: where its state lives. */
interface Setup {
  label: string;
  start(stackEnv: { relayEnv: Env; gatewayEnv: Env }): Promise<TeamRun>;
}

const SETUPS: readonly Setup[] = [
  {
    label: 'one gateway, SQLite file, limits in process',
    start: async ({ relayEnv, gatewayEnv }) => {
      const folder = mkdtempSync(join(tmpdir(), 'team-done-when-'));
      const stack = await startStack({
        relayEnv,
        gatewayEnv: { ...gatewayEnv, DATABASE_URL: `sqlite:${join(folder, 'gateway.db')}` },
      });
      return {
        stack,
        gateways: [stack.gatewayUrl, stack.gatewayUrl],
        logText: () => stack.logs.text,
        close: async () => {
          await stack.close();
          rmSync(folder, { recursive: true, force: true });
        },
      };
    },
  },
  {
    label: 'two replicas, PostgreSQL and Redis',
    start: async ({ relayEnv, gatewayEnv }) => {
      const database = await createTestPostgresDatabase();
      const replicaEnv: Env = { ...gatewayEnv, DATABASE_URL: database.url, REDIS_URL: testRedisUrl() };
      const stack = await startStack({ relayEnv, gatewayEnv: replicaEnv });
      const replica = await startGatewayReplica(stack, replicaEnv);
      return {
        stack,
        gateways: [stack.gatewayUrl, replica.url],
        logText: () => `${stack.logs.text}\n${replica.logs.text}`,
        close: async () => {
          await replica.close();
          await stack.close();
          await database.drop();
        },
      };
    },
  },
];

describe.each(SETUPS)('issue 12 done when: a team on the gateway ($label)', (setup) => {
  let mirror: FakeUpstream;
  let config: TestConfigFile;
  let team: TeamRun;
  let alice: CliKey;
  let bob: CliKey;

  /** Gateway `index` (0 or 1): the members' requests alternate between the two. */
  const gateway = (index: number): string => team.gateways[index % 2] ?? team.gateways[0];
  const openAiMember = (index: number): OpenAI => teamClient(gateway(index), alice.key);
  const claudeCodeMember = (index: number): Anthropic =>
    new Anthropic({ apiKey: bob.key, baseURL: `${gateway(index)}/anthropic`, maxRetries: 0, timeout: 10_000 });

  /** A usage answer once it counts `requests` (rows are written as answers end, and in batches per replica). */
  async function usage(baseUrl: string, path: string, token: string, requests: number): Promise<unknown> {
    const answer = await eventually(
      () => callJson(baseUrl, 'GET', path, { token }),
      (read) => read.status === 200 && usageAnswerSchema.parse(read.body).total.requests >= requests,
    );
    expect(answer.status).toBe(200);
    const parsed = usageAnswerSchema.parse(answer.body);
    return { ...parsed, data: byGroup(parsed.data) };
  }

  beforeAll(async () => {
    mirror = await startFakeOpenAi();
    config = writeGatewayConfig(
      [
        'providers:',
        `  mirror: { type: openai-compatible, base_url: ${mirror.url}, models: ["mirror-*"], api_keys: [env:MIRROR_API_KEY] }`,
        'prices:',
        ...Object.entries(PRICES).map(
          ([model, price]) => `  ${model}: { input: ${price.input}, output: ${price.output} }`,
        ),
      ].join('\n'),
    );
    team = await setup.start({
      relayEnv: { OPENAI_COMPATIBLE_PROVIDERS: `mirror=${mirror.url}` },
      gatewayEnv: {
        GATEWAY_KEYS: 'required',
        GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
        GATEWAY_CONFIG: config.path,
        OPENAI_API_KEY: OPENAI_TEAM_KEY,
        ANTHROPIC_API_KEY: ANTHROPIC_TEAM_KEY,
        GEMINI_API_KEY: GEMINI_TEAM_KEY,
        MIRROR_API_KEY: MIRROR_TEAM_KEY,
      },
    });
  });

  afterAll(async () => {
    await team?.close();
    await mirror?.close();
    config?.remove();
  });

  it('should let the lead create two keys with the CLI, one limited to 3 requests per minute', async () => {
    const cliEnv: Env = { GATEWAY_URL: gateway(0), GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN };
    alice = createdKeyOf(await runKeysCli(['create', '--name', 'alice'], cliEnv));
    bob = createdKeyOf(await runKeysCli(['create', '--name', 'bob', '--rpm', String(LIMITED_RPM)], cliEnv));
    expect(alice.id).not.toBe(bob.id);
  });

  it('should serve member A through the OpenAI SDK on /v1 with gpt, claude, gemini and the compatible provider’s models', async () => {
    const ask = (index: number, model: string, content: string): Promise<OpenAI.ChatCompletion> =>
      openAiMember(index).chat.completions.create({ model, messages: [{ role: 'user', content }] });

    const gpt = await ask(0, GPT_MODEL, 'alice to gpt');
    expect(gpt.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: alice to gpt');
    expect(team.stack.openai.lastRequest('/v1/chat/completions')?.headers.authorization).toBe(
      `Bearer ${OPENAI_TEAM_KEY}`,
    );

    const claude = await ask(1, CLAUDE_MODEL, 'alice to claude');
    expect(claude.choices[0]?.message.content).toBe(
      'Hello from the fake Anthropic upstream. You said: alice to claude',
    );
    expect(team.stack.anthropic.lastRequest('/v1/messages')?.headers['x-api-key']).toBe(ANTHROPIC_TEAM_KEY);

    const gemini = await ask(0, GEMINI_MODEL, 'alice to gemini');
    expect(gemini.choices[0]?.message.content).toBe('Hello from the fake Gemini. You said: alice to gemini');
    expect(team.stack.gemini.lastRequest(`/v1beta/models/${GEMINI_MODEL}`)?.headers['x-goog-api-key']).toBe(
      GEMINI_TEAM_KEY,
    );

    const plain = await ask(1, MIRROR_MODEL, 'alice to mirror');
    expect(plain.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: alice to mirror');
    const stream = await openAiMember(0).chat.completions.create({
      model: MIRROR_MODEL,
      messages: [{ role: 'user', content: 'alice streams from mirror' }],
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe('Hello from the fake OpenAI upstream. You said: alice streams from mirror');

    const mirrored = mirror.requests.filter((request) => request.url === '/v1/chat/completions');
    expect(mirrored.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${MIRROR_TEAM_KEY}`,
      `Bearer ${MIRROR_TEAM_KEY}`,
    ]);
    expect(mirrored.map((request) => sentModelSchema.parse(JSON.parse(request.body.toString('utf8'))).model)).toEqual([
      MIRROR_MODEL,
      MIRROR_MODEL,
    ]);
    // No gateway key reaches a provider.
    for (const fake of [team.stack.openai, team.stack.anthropic, team.stack.gemini, mirror]) {
      expect(JSON.stringify(fake.requests.map((request) => request.headers))).not.toContain(alice.key);
    }
  });

  it('should serve member B through the Anthropic SDK on /anthropic, and refuse its 4th request in the minute with a clean 429', async () => {
    const params = {
      model: CLAUDE_CODE_MODEL,
      max_tokens: 64,
      messages: [{ role: 'user' as const, content: 'bob via claude code' }],
    };
    const first = await claudeCodeMember(0).messages.create(params).withResponse();
    expect(first.data.content).toEqual([
      { type: 'text', text: 'Hello from the fake Anthropic upstream. You said: bob via claude code' },
    ]);
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe(String(LIMITED_RPM));
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('2');

    const streamed = await claudeCodeMember(1)
      .messages.create({ ...params, stream: true })
      .withResponse();
    expect(streamed.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    let text = '';
    for await (const event of streamed.data) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        text += event.delta.text;
      }
    }
    expect(text).toBe('Hello from the fake Anthropic upstream. You said: bob via claude code');

    const third = await claudeCodeMember(0).messages.create(params).withResponse();
    expect(third.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');

    const arrivedBefore = team.stack.anthropic.requests.length;
    const refused = await rejectionOf(claudeCodeMember(1).messages.create(params));
    expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
    if (!(refused instanceof Anthropic.APIError)) {
      throw new Error('not an API error');
    }
    expect(refused.status).toBe(429);
    expect(errorBodySchema.parse(refused.error).error.code).toBe('rate_limit_exceeded');
    const retryAfter = Number(refused.headers?.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers?.get('x-ratelimit-limit-requests')).toBe(String(LIMITED_RPM));
    expect(refused.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers?.get('x-ratelimit-reset-requests')).toMatch(/^(\d+ms|(\d+m)?\d+(\.\d+)?s)$/);
    expect(team.stack.anthropic.requests.length).toBe(arrivedBefore);

    const held = team.stack.anthropic.requests.filter((request) => request.url === '/v1/messages');
    // Member A's chat through the claude bridge, and member B's three.
    expect(held.map((request) => request.headers['x-api-key'])).toEqual(Array(4).fill(ANTHROPIC_TEAM_KEY));
    expect(JSON.stringify(held.map((request) => request.headers))).not.toContain(bob.key);
  });

  describe('the usage answers', () => {
    const aliceRows = (): Record<string, UsageCounts> => ({
      [CLAUDE_MODEL]: usageOf(CLAUDE_MODEL, FAKE_ANTHROPIC_MESSAGE),
      [GEMINI_MODEL]: usageOf(GEMINI_MODEL, FAKE_GEMINI_GENERATE),
      [GPT_MODEL]: usageOf(GPT_MODEL, FAKE_OPENAI_CHAT),
      // Plain and streamed: the stream's usage is the fake's usage chunk, which the gateway asked for.
      [MIRROR_MODEL]: usageOf(MIRROR_MODEL, FAKE_OPENAI_CHAT, 2),
    });
    /** Member B's three served requests; the refused 4th is no row. */
    const bobUsage = (): UsageCounts => usageOf(CLAUDE_CODE_MODEL, FAKE_ANTHROPIC_MESSAGE, LIMITED_RPM);
    const aliceUsage = (): UsageCounts => sumOf(...Object.values(aliceRows()));

    it('should show each member exactly their own usage on /v1/usage, on either gateway', async () => {
      for (const index of [0, 1]) {
        const forAlice = await usage(
          gateway(index),
          `/v1/usage?group_by=model&${RUN_DAYS}`,
          alice.key,
          aliceUsage().requests,
        );
        expect(forAlice).toEqual({
          object: 'list',
          start_date: FIRST_DAY,
          end_date: LAST_DAY,
          group_by: 'model',
          data: modelRows(aliceRows()),
          total: aliceUsage(),
        });
        const forBob = await usage(gateway(index + 1), `/v1/usage?group_by=key&${RUN_DAYS}`, bob.key, LIMITED_RPM);
        expect(forBob).toEqual({
          object: 'list',
          start_date: FIRST_DAY,
          end_date: LAST_DAY,
          group_by: 'key',
          data: [{ group: bob.id, name: 'bob', ...bobUsage() }],
          total: bobUsage(),
        });
      }
    });

    it('should show the lead the whole team on /admin/usage by model and by key', async () => {
      const everything = sumOf(aliceUsage(), bobUsage());
      const teamRows = { ...aliceRows(), [CLAUDE_CODE_MODEL]: bobUsage() };
      for (const index of [0, 1]) {
        const byModel = await usage(
          gateway(index),
          `/admin/usage?group_by=model&${RUN_DAYS}`,
          ADMIN_TOKEN,
          everything.requests,
        );
        expect(byModel).toEqual({
          object: 'list',
          start_date: FIRST_DAY,
          end_date: LAST_DAY,
          group_by: 'model',
          data: modelRows(teamRows),
          total: everything,
        });
        const byKey = await usage(
          gateway(index),
          `/admin/usage?group_by=key&${RUN_DAYS}`,
          ADMIN_TOKEN,
          everything.requests,
        );
        expect(byKey).toEqual({
          object: 'list',
          start_date: FIRST_DAY,
          end_date: LAST_DAY,
          group_by: 'key',
          data: byGroup([
            { group: alice.id, name: 'alice', ...aliceUsage() },
            { group: bob.id, name: 'bob', ...bobUsage() },
          ]),
          total: everything,
        });
      }
    });
  });

  it('should log no credential: no gateway key, provider key or admin token', () => {
    const logged = team.logText();
    expect(logged).not.toBe('');
    for (const secret of [
      alice.key,
      bob.key,
      ADMIN_TOKEN,
      OPENAI_TEAM_KEY,
      ANTHROPIC_TEAM_KEY,
      GEMINI_TEAM_KEY,
      MIRROR_TEAM_KEY,
    ]) {
      expect(logged).not.toContain(secret);
    }
  });
});
