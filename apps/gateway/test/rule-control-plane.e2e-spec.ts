import {
  type AnswerPlan,
  type FaultPlan,
  type FaultRecord,
  FaultUpstream,
  jsonAnswer,
} from '@openai-proxy/testing-fakes';
import { z } from 'zod';
import { type Stack, startStack } from './support/stack';
import { type ClientExchange, type ClientRequestInit, exchange } from './support/stream-client';

// The control-plane rules, proven through the whole product (client → gateway → relay or bridge → fault upstream):
// the calls a service makes for itself before or around the answer (the cost query's billing calls, claude.ai's
// conversation calls, Bard's page) are short, so the headers budget bounds each one whole, however slowly its body
// comes; none follows a redirect, so an upstream cannot send us to another host; and each goes through the data
// plane's retry layer.

/** The services' headers budget, which bounds a whole control-plane call; the idle budget keeps its 120 s. */
const HEADERS_TIMEOUT_MS = 1_000;
/** How much earlier than the budget a call may end: none (a plain timer), bar the clocks' rounding. */
const TIMER_EARLY_MS = 2;
const SLACK_MS = 1_000;
/** A body that never stops coming within any test's patience: a byte every 100 ms, for 6 s. */
const DRIBBLE_WRITES = 60;
const DRIBBLE_GAP_MS = 100;
/** Longer than the budget and its slack, shorter than the dribble: a call the budget did not end fails the test. */
const CLIENT_PATIENCE_MS = 4_000;
const CLAUDE_WEB_ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const CLAUDE_WEB_SESSION = 'sk-ant-sid01-control-plane-session';

/** One control-plane call a client request causes, and the fault upstream that call reaches. */
interface ControlPlaneCall {
  name: string;
  upstream(): FaultUpstream;
  /** The gateway path and request that make the service call its upstream. */
  path: string;
  init(marker: string): ClientRequestInit;
  /** Whether `record` is the call made for the request carrying `marker`. */
  carries(record: FaultRecord, marker: string): boolean;
  /** The upstream path the call arrives at, and with which method. */
  upstreamPath: string;
  method: 'GET' | 'POST';
  /** What the client gets when the call is answered 302: the status, and a part of the error's message. */
  redirectStatus: number;
  redirectMessage: string;
}

let stack: Stack;
let billing: FaultUpstream;
let claudeWeb: FaultUpstream;
let bard: FaultUpstream;
/** Where a redirect points: another host the services must never reach. */
let elsewhere: FaultUpstream;

beforeAll(async () => {
  [billing, claudeWeb, bard, elsewhere] = await Promise.all([
    FaultUpstream.start(),
    FaultUpstream.start(),
    FaultUpstream.start(),
    FaultUpstream.start(),
  ]);
  const budget = { UPSTREAM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) };
  stack = await startStack({
    relayEnv: { ...budget, OPENAI_API_BASE: billing.url },
    claudeEnv: { ...budget, CLAUDE_WEB_BASE: claudeWeb.url },
    bardEnv: { ...budget, BARD_BASE: bard.url },
  });
});

afterAll(async () => {
  await stack.close();
  await Promise.all([billing.close(), claudeWeb.close(), bard.close(), elsewhere.close()]);
});

/** Each call's marker travels in a credential (billing, Bard) or the organization's conversation list request. */
const CALLS: ControlPlaneCall[] = [
  {
    name: 'the cost query (billing)',
    upstream: () => billing,
    path: '/openai/billing/credit_grants',
    init: (marker) => ({ headers: { authorization: `Bearer sess-${marker}` } }),
    carries: (record, marker) => String(record.request.headers.authorization).includes(marker),
    upstreamPath: '/dashboard/billing/credit_grants',
    method: 'GET',
    // The cost query answers an upstream refusal (4xx, 5xx) with its status, in its own `{error}` shape; a
    // redirect is no refusal and no answer it can read: 502.
    redirectStatus: 502,
    redirectMessage: 'OpenAI billing upstream answered 302',
  },
  {
    name: "claude.ai's conversation creation",
    upstream: () => claudeWeb,
    path: `/claude/${CLAUDE_WEB_ORG}/v1/chat/completions`,
    init: (marker) => ({
      headers: { authorization: `Bearer ${CLAUDE_WEB_SESSION}-${marker}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-2.1', messages: [{ role: 'user', content: marker }] }),
    }),
    carries: (record, marker) => String(record.request.headers.cookie).includes(marker),
    upstreamPath: `/organizations/${CLAUDE_WEB_ORG}/chat_conversations`,
    method: 'POST',
    redirectStatus: 500,
    redirectMessage: 'claude.ai answered 302',
  },
  {
    name: "claude.ai's conversation list",
    upstream: () => claudeWeb,
    path: `/claude/organizations/${CLAUDE_WEB_ORG}/chat_conversations`,
    init: (marker) => ({ headers: { cookie: `sessionKey=${CLAUDE_WEB_SESSION}-${marker}` } }),
    carries: (record, marker) => String(record.request.headers.cookie).includes(marker),
    upstreamPath: `/organizations/${CLAUDE_WEB_ORG}/chat_conversations`,
    method: 'GET',
    redirectStatus: 502,
    redirectMessage: 'claude.ai answered 302 with something that is not JSON',
  },
  {
    name: "Bard's page",
    upstream: () => bard,
    path: '/google/bard',
    init: (marker) => ({
      headers: {
        cookie: `__Secure-1PSID=g.a000${marker};__Secure-1PSIDTS=sidts-${marker}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ prompt: 'hello' }),
    }),
    carries: (record, marker) => String(record.request.headers.cookie).includes(marker),
    upstreamPath: '/app',
    method: 'GET',
    // A page without the session tokens: what Google's redirect to its sign-in page means for the cookies.
    redirectStatus: 401,
    redirectMessage: 'Bard did not accept the cookies',
  },
];

/**
 * Calls `call` for a request carrying `marker`, its upstream answering with `plan`, through `through` (the suite's
 * stack unless told) with `withinMs` of the client's patience; resolves with both ends.
 */
async function callThrough(
  call: ControlPlaneCall,
  marker: string,
  plan: FaultPlan,
  { through = stack, withinMs = CLIENT_PATIENCE_MS }: { through?: Stack; withinMs?: number } = {},
): Promise<{ client: ClientExchange; record: FaultRecord }> {
  const upstream = call.upstream();
  upstream.next(plan);
  const client = await exchange(`${through.gatewayUrl}${call.path}`, {
    ...call.init(marker),
    withinMs,
  });
  const record = await upstream.waitFor(
    () => upstream.records.find((candidate) => call.carries(candidate, marker)),
    2_000,
    `the call carrying ${marker}`,
  );
  return { client, record };
}

/** A 200 whose headers come at once and whose body then comes a byte at a time, slower than any budget allows. */
function dribble(): AnswerPlan {
  return {
    kind: 'answer',
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Array.from({ length: DRIBBLE_WRITES }, () => ' '),
    gapMs: DRIBBLE_GAP_MS,
  };
}

const billingErrorSchema = z.object({ error: z.string() });
const openAiErrorSchema = z.object({ error: z.object({ message: z.string(), code: z.string().nullable() }) });

/** The message of the error a client got: the cost query's `{error}` shape, or an OpenAI error envelope. */
function errorMessage(client: ClientExchange): string {
  const body: unknown = JSON.parse(client.text);
  const billingError = billingErrorSchema.safeParse(body);
  return billingError.success ? billingError.data.error : openAiErrorSchema.parse(body).error.message;
}

describe('rule: the headers budget bounds a whole control-plane call', () => {
  it.each(CALLS.map((call) => [call.name, call] as const))(
    'should end %s at the headers budget with a 504 when its body dribbles on forever',
    async (_, call) => {
      const marker = `dribble${CALLS.indexOf(call)}`;
      const { client, record } = await callThrough(call, marker, dribble());
      expect(client.failure).toBeUndefined();
      expect(client.status).toBe(504);
      expect(errorMessage(client)).toMatch(/in time/);
      // The headers came at once and the body kept coming: it was the budget of the whole call that ended it.
      expect(record.request.url.startsWith(call.upstreamPath)).toBe(true);
      expect(record.headersSentAt).toBeDefined();
      expect(record.writes.length).toBeGreaterThan(0);
      const elapsed = (client.headersAt ?? Infinity) - client.sentAt;
      expect(elapsed).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - TIMER_EARLY_MS);
      expect(elapsed).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + SLACK_MS);
      const closedAt = await call.upstream().waitForSocketClose(record);
      expect(closedAt - client.sentAt).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + SLACK_MS);
      expect(record.request.closedEarly).toBe(true);
      expect(record.writes.length).toBeLessThan(DRIBBLE_WRITES);
    },
  );
});

/** The attempts of `call` made for the request carrying `marker`: its method at its path (not a later call). */
function attempts(call: ControlPlaneCall, marker: string): number {
  return call
    .upstream()
    .records.filter(
      (record) =>
        call.carries(record, marker) &&
        record.request.method === call.method &&
        record.request.url.split('?')[0] === call.upstreamPath,
    ).length;
}

describe("rule: control-plane calls go through the data plane's retry layer", () => {
  it.each(CALLS.map((call) => [call.name, call] as const))(
    'should send %s again when the upstream reset the connection on its arrival',
    async (_, call) => {
      const marker = `reset${CALLS.indexOf(call)}`;
      const { client } = await callThrough(call, marker, { kind: 'hang-up', how: 'reset' });
      expect(client.failure).toBeUndefined();
      // The second attempt got the fake's plain 200 (what the service then made of it is beside the point here).
      expect(attempts(call, marker)).toBe(2);
    },
  );

  it.each(CALLS.map((call) => [call.name, call] as const))(
    'should send %s again after a 503 when it is a GET, and a POST not (its work may have been done)',
    async (_, call) => {
      const marker = `busy${CALLS.indexOf(call)}`;
      const busy = jsonAnswer(503, { error: { message: `busy for ${marker}`, type: 'server_error' } });
      const { client } = await callThrough(call, marker, busy);
      expect(client.failure).toBeUndefined();
      if (call.method === 'POST') {
        expect(attempts(call, marker)).toBe(1);
        expect(client.status).toBe(503);
      } else {
        expect(attempts(call, marker)).toBe(2);
        expect(client.status).not.toBe(503);
      }
    },
  );
});

describe('rule: control-plane calls follow no redirects', () => {
  it.each(CALLS.map((call) => [call.name, call] as const))(
    'should not follow a 302 from %s to another host, and answer the client an error without its Location',
    async (_, call) => {
      const marker = `redirect${CALLS.indexOf(call)}`;
      const plan: AnswerPlan = {
        kind: 'answer',
        status: 302,
        headers: { location: `${elsewhere.url}${call.upstreamPath}`, 'content-type': 'text/html' },
        body: ['<a href="elsewhere">moved</a>'],
        contentLength: 'exact',
      };
      const { client, record } = await callThrough(call, marker, plan);
      expect(client.status).toBe(call.redirectStatus);
      expect(errorMessage(client)).toContain(call.redirectMessage);
      expect(client.headers.location).toBeUndefined();
      expect(client.text).not.toContain(elsewhere.url);
      expect(record.headersSentAt).toBeDefined();
      expect(call.upstream().records.filter((candidate) => call.carries(candidate, marker))).toHaveLength(1);
      expect(elsewhere.records).toEqual([]);
    },
  );
});

describe('rule: a control-plane answer is read whole up to 16 MiB, past it a 502', () => {
  const MIB = 1024 * 1024;
  /** The control-plane cap (a constant of ControlPlaneClient): a Bard page or a claude.ai list is far smaller. */
  const CONTROL_PLANE_CAP = 16 * MIB;
  /**
   * Moving 16 MiB through three hops can take longer than the suite's 1 s budget on a busy machine, and a budget
   * that ends the call first answers 504, not what this rule is about: the cap is proven on a stack whose Bard
   * bridge keeps a budget no machine reaches.
   */
  const ROOMY_BUDGET_MS = 60_000;
  const ROOMY_PATIENCE_MS = 30_000;
  let roomy: Stack;

  beforeAll(async () => {
    roomy = await startStack({
      bardEnv: { UPSTREAM_HEADERS_TIMEOUT_MS: String(ROOMY_BUDGET_MS), BARD_BASE: bard.url },
    });
  });

  afterAll(async () => {
    await roomy.close();
  });

  it(
    "should answer 502 upstream_bad_response and stop reading when Bard's page passes 16 MiB",
    async () => {
      const call = CALLS.find((candidate) => candidate.upstreamPath === '/app');
      if (call === undefined) {
        throw new Error("no call of Bard's page");
      }
      // 8 MiB more than the cap, more than the sockets' buffers hold: a reader that stops at the cap leaves it unsent.
      const pieces = CONTROL_PLANE_CAP / MIB + 8;
      const plan: AnswerPlan = {
        kind: 'answer',
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: Array.from({ length: pieces }, () => 'a'.repeat(MIB)),
      };
      const { client, record } = await callThrough(call, 'oversizePage', plan, {
        through: roomy,
        withinMs: ROOMY_PATIENCE_MS,
      });
      expect(client.status).toBe(502);
      expect(JSON.parse(client.text)).toMatchObject({ error: { code: 'upstream_bad_response' } });
      await bard.waitForSocketClose(record);
      const sent = record.writes.reduce((sum, bytes) => sum + bytes, 0);
      expect(sent).toBeGreaterThan(CONTROL_PLANE_CAP);
      expect(record.request.closedEarly).toBe(true);
      expect(record.writes.length).toBeLessThan(pieces);
    },
    ROOMY_PATIENCE_MS + 10_000,
  );
});
