import Anthropic from '@anthropic-ai/sdk';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { z } from 'zod';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { TeamState } from '@openai-proxy/gateway-feature-team';
import type { UsageReport } from '@openai-proxy/gateway-data-access-team';
import type { KeySettings, UsageGroupBy } from '@openai-proxy/gateway-util-team';
import {
  type FakeHandler,
  type FakeUpstream,
  fakeAnthropicMessages,
  fakeChatCompletions,
  json,
  startFakeOpenAi,
} from '@openai-proxy/testing-fakes';
import { type BackendServiceName, SERVICES_MANIFEST, backendServices } from '@openai-proxy/util-services';
import { loadGatewayConfig } from '../../src/config/gateway.env';
import { createGatewayApp } from '../../src/gateway.app';
import { type Env, LogCapture, type Stack, type StackOptions, startStack, urlOf } from './stack';

/** The chat route of the fake OpenAI, as the openai-relay calls it. */
export const FAKE_CHAT_PATH = '/v1/chat/completions';

/** A key with no limits and every model; a test overrides what it needs. */
export const UNLIMITED_KEY: KeySettings = {
  name: 'member',
  models: [],
  rpm: null,
  tpm: null,
  budgetUsd: null,
  budgetPeriod: 'total',
  expiresAt: null,
};

/** How long a test waits for something the gateway does after answering (a ledger row, a reconnection). */
const SETTLE_WITHIN_MS = 10_000;
const POLL_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it gives a value, at most `withinMs`; undefined when it never did. */
export async function pollFor<T>(
  probe: () => Promise<T | undefined>,
  withinMs = SETTLE_WITHIN_MS,
): Promise<T | undefined> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() >= deadline) {
      return value;
    }
    await sleep(POLL_MS);
  }
}

/** A `GATEWAY_CONFIG` file in a folder of its own. */
export interface TestConfigFile {
  path: string;
  remove(): void;
}

/** Writes `yaml` as a gateway config file. */
export function writeGatewayConfig(yaml: string): TestConfigFile {
  const folder = mkdtempSync(join(tmpdir(), 'gateway-team-config-'));
  const path = join(folder, 'gateway.yaml');
  writeFileSync(path, yaml);
  return { path, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** One more gateway, listening on its own port, with its own log. */
export interface GatewayReplica {
  app: NestExpressApplication;
  url: string;
  logs: LogCapture;
  close(): Promise<void>;
}

/** Where the stack's backend services listen, as the gateway's `*_URL` variables. */
function serviceEnvOf(stack: Stack): Env {
  const [claude, bard] = stack.bridges;
  const urls: Record<BackendServiceName, string | undefined> = {
    'openai-relay': stack.relayUrl,
    'claude-bridge': claude === undefined ? undefined : urlOf(claude),
    'bard-bridge': bard === undefined ? undefined : urlOf(bard),
  };
  const env: Env = {};
  for (const service of backendServices(SERVICES_MANIFEST)) {
    const url = urls[service.name as BackendServiceName];
    if (url !== undefined) {
      env[service.urlVariable] = url;
    }
  }
  return env;
}

/** A second gateway app in front of the stack's services (a replica when given the same state variables). */
export async function startGatewayReplica(stack: Stack, gatewayEnv: Env): Promise<GatewayReplica> {
  const logs = new LogCapture();
  const app = await createGatewayApp(loadGatewayConfig({ ...serviceEnvOf(stack), LOG_LEVEL: 'debug', ...gatewayEnv }), {
    logDestination: logs,
  });
  await listenServiceApp(app, 0, '127.0.0.1');
  return { app, url: urlOf(app), logs, close: () => app.close() };
}

/** Creates a gateway key in the gateway's team database; its plain key and id. */
export async function createGatewayKey(
  gateway: NestExpressApplication,
  settings: Partial<KeySettings> = {},
): Promise<{ key: string; id: string }> {
  const created = await gateway.get(TeamState).keys.create({ ...UNLIMITED_KEY, ...settings });
  return { key: created.key, id: created.record.id };
}

/** A key's usage over all time, grouped by `groupBy`, after the gateway wrote what it queued. */
export async function keyUsage(
  gateway: NestExpressApplication,
  keyId: string,
  groupBy: UsageGroupBy = 'key',
): Promise<UsageReport> {
  const { ledger } = gateway.get(TeamState);
  await ledger.flush();
  return ledger.usage({ startDate: '2000-01-01', endDate: '2100-12-31', groupBy, keyId });
}

/** POSTs a chat request to the gateway's `/v1/chat/completions` with a bearer key. */
export function postChat(
  baseUrl: string,
  key: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** How many chats reached the fake OpenAI whose user message starts with `prefix`. */
export function chatsArrivedWith(fake: FakeUpstream, prefix: string): number {
  return fake.requests.filter(
    (request) => request.url === FAKE_CHAT_PATH && request.body.toString('utf8').includes(`"content":"${prefix}`),
  ).length;
}

/** A chat request body for `gpt-4o-mini` with one user message. */
export function chatBody(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra };
}

/** A gateway answer, read whole. */
export interface ReadAnswer {
  status: number;
  /** The OpenAI error code of an error answer; undefined for a success. */
  errorCode: string | undefined;
  body: string;
  /** The answer's `x-should-retry`: `false` tells the SDKs not to send the request again. */
  shouldRetry: string | null;
}

const errorEnvelope = z.object({ error: z.object({ code: z.string().nullable().optional() }) });

function errorCodeOf(status: number, body: string): string | undefined {
  if (status < 400) {
    return undefined;
  }
  try {
    return errorEnvelope.parse(JSON.parse(body)).error.code ?? undefined;
  } catch {
    return undefined;
  }
}

/** Reads an answer's body whole, with its error code when it is an error. */
export async function readAnswer(response: Response): Promise<ReadAnswer> {
  const body = await response.text();
  return {
    status: response.status,
    errorCode: errorCodeOf(response.status, body),
    body,
    shouldRetry: response.headers.get('x-should-retry'),
  };
}

/** How long a burst waits for every request to be decided before it lets the held answers go anyway. */
const DECIDE_WITHIN_MS = 15_000;

/**
 * Sends `count` requests at once while the fake OpenAI holds every chat it gets, and lets the held ones go only
 * once each request was decided (refused by the gateway, or arrived at the fake): then no settlement can make
 * room for another request before all of them were counted, and what is let through is exactly what the limits
 * granted. The fake's chat route is the standard one again afterwards.
 */
export async function burst(
  fake: FakeUpstream,
  count: number,
  send: (index: number) => Promise<Response>,
): Promise<ReadAnswer[]> {
  let decided = 0;
  let letGo: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const decide = (): void => {
    decided += 1;
    if (decided >= count) {
      letGo();
    }
  };
  const held: FakeHandler = async (request, response) => {
    decide();
    await released;
    await fakeChatCompletions(request, response);
  };
  fake.on('POST', FAKE_CHAT_PATH, held);
  const deadline = setTimeout(letGo, DECIDE_WITHIN_MS);
  try {
    return await Promise.all(
      Array.from({ length: count }, async (_, index): Promise<ReadAnswer> => {
        const response = await send(index);
        if (response.status >= 400) {
          decide();
        }
        return readAnswer(response);
      }),
    );
  } finally {
    clearTimeout(deadline);
    letGo();
    fake.on('POST', FAKE_CHAT_PATH, fakeChatCompletions);
  }
}

/** How many answers of a burst had each status. */
export function statusCounts(answers: readonly ReadAnswer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const answer of answers) {
    counts[answer.status] = (counts[answer.status] ?? 0) + 1;
  }
  return counts;
}

const storedInteger = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number);

/** A ledger row as stored, with the fields the usage answers sum away. */
const ledgerRowSchema = z
  .object({
    provider: z.string(),
    model_requested: z.string().nullable(),
    model_served: z.string().nullable(),
    route: z.string(),
    prompt_tokens: storedInteger,
    completion_tokens: storedInteger,
    cached_prompt_tokens: storedInteger,
    cache_write_prompt_tokens: storedInteger,
    cache_write_1h_prompt_tokens: storedInteger,
    prompt_source: z.enum(['provider', 'estimated']),
    completion_source: z.enum(['provider', 'estimated']),
    cost_micro_usd: storedInteger,
    first_token_ms: storedInteger.nullable(),
    status: storedInteger,
    outcome: z.enum(['completed', 'failed', 'aborted']),
    client_aborted: storedInteger,
  })
  .transform((row) => ({
    provider: row.provider,
    modelRequested: row.model_requested,
    modelServed: row.model_served,
    route: row.route,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    cachedPromptTokens: row.cached_prompt_tokens,
    cacheWritePromptTokens: row.cache_write_prompt_tokens,
    cacheWrite1hPromptTokens: row.cache_write_1h_prompt_tokens,
    promptSource: row.prompt_source,
    completionSource: row.completion_source,
    costMicroUsd: row.cost_micro_usd,
    firstTokenMs: row.first_token_ms,
    status: row.status,
    outcome: row.outcome,
    clientAborted: row.client_aborted === 1,
  }));

/** One request's ledger row, read back from the team database. */
export type LedgerRow = z.output<typeof ledgerRowSchema>;

/** A key's ledger rows in the order written, after the gateway wrote what it queued. */
export async function ledgerRows(
  gateway: NestExpressApplication,
  databaseUrl: string,
  keyId: string,
): Promise<LedgerRow[]> {
  await gateway.get(TeamState).ledger.flush();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query('SELECT * FROM usage_ledger WHERE key_id = $1 ORDER BY id', [keyId]);
    return result.rows.map((row: unknown) => ledgerRowSchema.parse(row));
  } finally {
    await client.end();
  }
}

/**
 * A key's ledger rows once there are `count` of them (a row is recorded when the gateway's relay ended, which can
 * be just after the client got its answer); whatever there is after a bounded wait.
 */
export async function ledgerRowsOnce(
  gateway: NestExpressApplication,
  databaseUrl: string,
  keyId: string,
  count: number,
): Promise<LedgerRow[]> {
  let rows: LedgerRow[] = [];
  await pollFor(async () => {
    rows = await ledgerRows(gateway, databaseUrl, keyId);
    return rows.length >= count ? rows : undefined;
  });
  return rows;
}

/** The provider keys a fallback team's gateway holds: two for OpenAI, one for each other provider. */
export const FALLBACK_TEAM_KEYS = {
  openai: ['sk-fallback-openai-a-0123456789', 'sk-fallback-openai-b-0123456789'],
  mirror: 'sk-fallback-mirror-0123456789',
  anthropic: 'sk-ant-api03-fallback-0123456789',
  gemini: 'AIzaFallbackKey0123456789',
} as const;

/** A team gateway (GATEWAY_KEYS=required) whose config file routes aliases through fallbacks. */
export interface FallbackTeam {
  stack: Stack;
  /** `mirror`, an OpenAI-compatible provider (`mirror-*` models) reached through the relay, with its own fake. */
  mirror: FakeUpstream;
  close(): Promise<void>;
}

/** What a fallback team is started with. */
export interface FallbackTeamOptions {
  /** The team database (a PostgreSQL URL, so that tests can read the ledger rows). */
  databaseUrl: string;
  /** The config file's `models:` and `prices:` sections (the helper writes `providers:`). */
  routes: string;
  /** More settings for the services (gateway settings replace the team's own). */
  stack?: StackOptions;
}

/**
 * Starts the whole stack in team mode with a fake per provider (OpenAI, Anthropic, Gemini from the stack, and
 * `mirror`), every provider key held by the gateway, and a config file made of `mirror` and `routes`.
 */
export async function startFallbackTeam(options: FallbackTeamOptions): Promise<FallbackTeam> {
  const mirror = await startFakeOpenAi();
  const config = writeGatewayConfig(
    [
      'providers:',
      `  mirror: { type: openai-compatible, base_url: ${mirror.url}, models: ["mirror-*"], api_keys: [env:MIRROR_API_KEY] }`,
      options.routes,
    ].join('\n'),
  );
  const stack = await startStack({
    ...options.stack,
    relayEnv: { GATEWAY_CONFIG: config.path, ...options.stack?.relayEnv },
    gatewayEnv: {
      GATEWAY_KEYS: 'required',
      DATABASE_URL: options.databaseUrl,
      GATEWAY_CONFIG: config.path,
      OPENAI_API_KEY: FALLBACK_TEAM_KEYS.openai.join(','),
      MIRROR_API_KEY: FALLBACK_TEAM_KEYS.mirror,
      ANTHROPIC_API_KEY: FALLBACK_TEAM_KEYS.anthropic,
      GEMINI_API_KEY: FALLBACK_TEAM_KEYS.gemini,
      ...options.stack?.gatewayEnv,
    },
  });
  return {
    stack,
    mirror,
    close: async () => {
      await stack.close();
      await mirror.close();
      config.remove();
    },
  };
}

/**
 * Anthropic's usage for a prompt that writes 1,000 tokens to the cache, 800 of them with the 1-hour lifetime (10
 * uncached input tokens, `cacheReads` read from the cache), and 20 output tokens.
 */
export function hourCacheWritesUsage(cacheReads: number): Record<string, unknown> {
  return {
    input_tokens: 10,
    cache_creation_input_tokens: 1000,
    cache_read_input_tokens: cacheReads,
    cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 800 },
    output_tokens: 20,
  };
}

/** The fake Anthropic's answer to a Messages call, whole, with hourCacheWritesUsage. */
export function hourCacheWritesAnswer(cacheReads: number): FakeHandler {
  return json(200, {
    id: 'msg_hour',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [{ type: 'text', text: 'cached for an hour' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: hourCacheWritesUsage(cacheReads),
  });
}

/**
 * Sends one message with the official Anthropic SDK through the gateway's `/anthropic` with gateway key `key`,
 * the stack's fake Anthropic answering it once with hourCacheWritesAnswer.
 */
export async function askWithHourCacheWrites(stack: Stack, key: string, cacheReads: number): Promise<void> {
  stack.anthropic.on('POST', '/v1/messages', hourCacheWritesAnswer(cacheReads));
  try {
    const native = new Anthropic({ apiKey: key, baseURL: `${stack.gatewayUrl}/anthropic`, maxRetries: 0 });
    await native.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hour' }],
    });
  } finally {
    stack.anthropic.on('POST', '/v1/messages', fakeAnthropicMessages);
  }
}
