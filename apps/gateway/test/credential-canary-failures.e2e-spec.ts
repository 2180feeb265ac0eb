import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  FAKE_BARD_STREAM_GENERATE,
  type FakeHandler,
  canaryLogReport,
  fakeAnthropicMessages,
  fakeChatCompletions,
  fakeGeminiGenerate,
  json,
  openAiError,
  reset,
  sse,
  stall,
  text,
} from '@openai-proxy/testing-fakes';
import {
  type CanaryAnswer,
  type CanaryProbe,
  asCanaryCalls,
  byMarker,
  leaksInAnswers,
  metricsOf,
  secretsIn,
  sendProbe,
} from './support/canary-probes';
import { type Stack, urlOf, startStack } from './support/stack';
import { createGatewayKey } from './support/team';

// Every canary ends in a marker of its own: the check looks for the markers, which no redaction may leave.
const CLIENT_CANARIES: Record<string, string> = {
  authorization: 'Bearer sk-canary-HDRAUTH01',
  'x-api-key': 'sk-ant-api03-canary-HDRXAPI02',
  'x-goog-api-key': 'AIzaSyCanary-HDRGOOG03',
  'api-key': 'canary-azure-HDRAZUR04',
  'proxy-authorization': 'Basic Y2FuYXJ5OkhEUlBSWFkwNQ==-HDRPRXY05',
  'x-custom-credential': 'sess-canary-HDRCUST06',
  'x-request-id': 'sk-canary-HDRRQID07',
  cookie:
    'sessionKey=sk-ant-sid01-canary-CKSESS08; __Secure-1PSID=canary-CKPSID09; __Secure-1PSIDTS=canary-CKPSTS10; sid=sess-canary-CKSID11',
};
const POOL_KEYS = {
  OPENAI_API_KEY: 'sk-canary-POOLOAI12',
  ANTHROPIC_API_KEY: 'sk-ant-api03-canary-POOLANT13',
  GEMINI_API_KEY: 'AIzaSyCanary-POOLGEM14',
};
const ADMIN_TOKEN = 'admin-canary-token-ADMTOKEN15';
/** Shaped exactly like a gateway key (so the gateway looks it up), in no store. */
const UNKNOWN_GATEWAY_KEY = 'gk-canaryUnknownGatewayKey000000000GKUNKNOWN16';
const BILLING_SESSION = 'Bearer sess-canary-BILLSESS17';
const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';

/** The markers that may show nowhere: in no log line, no metric, no answer a client gets. */
const MARKERS = [
  ...[...Object.values(CLIENT_CANARIES), ...Object.values(POOL_KEYS)].map((value) => value.slice(-8)),
  'CKSESS08',
  'CKPSID09',
  'CKPSTS10',
  'ADMTOKEN15',
  'GKUNKNOWN16',
  'BILLSESS17',
  'QKEY18',
  'QAPIKEY19',
  'QTOKEN20',
  'QPARAM21',
  'QSKVAL22',
  'QENC23',
  'QGOOG24',
  'QKEYSPAT25',
];

const chatBody = (prompt: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], ...extra });
const claudeBody = (prompt: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: prompt }], ...extra });
const anthropicBody = (prompt: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    model: 'claude-sonnet-4-6',
    max_tokens: 16,
    messages: [{ role: 'user', content: prompt }],
    ...extra,
  });
const geminiBody = (prompt: string): string =>
  JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prompt }] }] });

const openAiChunk = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] })}\n\n`;
const geminiChunk = `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'a' }] }, index: 0 }] })}\n\n`;
const anthropicStart = `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, usage: { input_tokens: 1, output_tokens: 0 } } })}\n\n`;

/** The upstream failures, chosen by a marker in the prompt. */
const MALFORMED_JSON: FakeHandler = text(200, '{"id": "broken", "choices": [', { 'content-type': 'application/json' });
const openAiChat = byMarker(
  {
    'fail:reset-mid-stream': sse({ frames: [openAiChunk, openAiChunk], resetAfter: 1 }),
    'fail:idle-mid-stream': sse({ frames: [openAiChunk, openAiChunk], stallAfter: 1 }),
    'fail:server-error': openAiError(500, 'The server had an error', 'server_error'),
    'fail:malformed': MALFORMED_JSON,
  },
  fakeChatCompletions,
);
const anthropicMessages = byMarker(
  {
    'fail:overloaded': json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    'fail:malformed': MALFORMED_JSON,
    'fail:stall': stall(),
    'fail:reset-mid-stream': sse({ frames: [anthropicStart, anthropicStart], resetAfter: 1 }),
  },
  fakeAnthropicMessages,
);
const geminiGenerate = byMarker(
  {
    'fail:server-error': json(500, { error: { code: 500, message: 'Internal error', status: 'INTERNAL' } }),
    'fail:malformed': MALFORMED_JSON,
    'fail:reset-mid-stream': sse({ frames: [geminiChunk, geminiChunk], resetAfter: 1 }),
  },
  fakeGeminiGenerate,
);

describe('rule: credentials never appear in logs, metrics or error bodies, whatever fails (canaries)', () => {
  let stack: Stack;
  let gatewayKey: string;
  let answers: CanaryAnswer[];
  let probes: CanaryProbe[];

  function serviceUrls(): string[] {
    return [stack.gatewayUrl, stack.relayUrl, ...stack.bridges.map((bridge: NestExpressApplication) => urlOf(bridge))];
  }

  beforeAll(async () => {
    const compatible = { OPENAI_COMPATIBLE_PROVIDERS: 'downprov=http://127.0.0.1:9' };
    const timeouts = { UPSTREAM_HEADERS_TIMEOUT_MS: '300', UPSTREAM_IDLE_TIMEOUT_MS: '300' };
    stack = await startStack({
      relayEnv: { ...compatible, ...timeouts, MAX_RELAY_BODY_BYTES: '4096' },
      claudeEnv: { ...timeouts, CLAUDE_WEB_BASE: 'http://127.0.0.1:9/api' },
      gatewayEnv: {
        ...compatible,
        ...POOL_KEYS,
        GATEWAY_KEYS: 'optional',
        GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
        DATABASE_URL: 'sqlite::memory:',
        MAX_RELAY_BODY_BYTES: '4096',
      },
    });
    stack.openai
      .on('POST', '/v1/chat/completions', openAiChat)
      .on('GET', '/v1/slow', stall())
      .on('GET', '/v1/reset', reset())
      .on('GET', '/v1/refused', openAiError(401, 'Incorrect API key provided', 'invalid_request_error'))
      .on('GET', /^\/v1\/limited(;|$)/, openAiError(429, 'Rate limit reached', 'requests', { 'retry-after': '7' }))
      .on('GET', '/v1/broken', openAiError(503, 'The engine is currently overloaded', 'server_error'))
      .on('GET', '/v1/malformed', MALFORMED_JSON)
      .on('GET', '/dashboard/billing/credit_grants', reset());
    stack.anthropic.on('POST', '/v1/messages', anthropicMessages);
    stack.gemini.on('POST', /^\/v1beta\/models\/[^/:]+:(generateContent|streamGenerateContent)$/, geminiGenerate);
    stack.bardWeb.on('GET', '/app', reset()).on('POST', FAKE_BARD_STREAM_GENERATE, reset());
    gatewayKey = (await createGatewayKey(stack.gateway)).key;
    const withGatewayKey = { authorization: `Bearer ${gatewayKey}` };
    const throughGateway: CanaryProbe[] = [
      {
        failure: 'relay: upstream sends no headers',
        method: 'GET',
        path: '/openai/v1/slow?key=canary-QKEY18',
        status: 504,
      },
      {
        failure: 'relay: upstream resets before answering',
        method: 'GET',
        path: '/openai/v1/reset?api_key=canary-QAPIKEY19',
        status: 502,
      },
      {
        failure: 'relay: upstream 401',
        method: 'GET',
        path: '/openai/v1/refused?access_token=canary-QTOKEN20',
        status: 401,
      },
      { failure: 'relay: upstream 429', method: 'GET', path: '/openai/v1/limited;key=canary-QPARAM21', status: 429 },
      {
        failure: 'relay: upstream 503',
        method: 'GET',
        path: '/openai/v1/broken?anything=sk-canary-QSKVAL22',
        status: 503,
      },
      {
        failure: 'relay: upstream malformed JSON',
        method: 'GET',
        path: '/openai/v1/malformed?key=sk%2Dcanary%2DQENC23',
        status: 200,
      },
      {
        failure: 'relay: stream reset mid-way',
        method: 'POST',
        path: '/openai/v1/chat/completions',
        body: chatBody('fail:reset-mid-stream', { stream: true }),
        status: 200,
      },
      {
        failure: 'relay: stream idle mid-way',
        method: 'POST',
        path: '/openai/v1/chat/completions',
        body: chatBody('fail:idle-mid-stream', { stream: true }),
        status: 200,
      },
      {
        failure: 'relay: upstream down',
        method: 'GET',
        path: '/downprov/v1/models?x-goog-api-key=AIzaSyCanary-QGOOG24',
        status: 503,
      },
      {
        failure: 'relay: body over the limit',
        method: 'POST',
        path: '/openai/v1/files',
        body: 'x'.repeat(8192),
        status: 413,
      },
      {
        failure: 'relay: billing upstream resets',
        method: 'GET',
        path: '/openai/billing/credit_grants',
        headers: { authorization: BILLING_SESSION },
        status: 502,
      },
      { failure: 'edge: unknown route', method: 'GET', path: '/nowhere?key=canary-QKEYSPAT25', status: 404 },
      {
        failure: 'claude-bridge: upstream overloaded',
        method: 'POST',
        path: '/claude/v1/chat/completions',
        body: claudeBody('fail:overloaded'),
        status: 503,
      },
      {
        failure: 'claude-bridge: upstream malformed JSON',
        method: 'POST',
        path: '/claude/v1/chat/completions',
        body: claudeBody('fail:malformed'),
        status: 502,
      },
      {
        failure: 'claude-bridge: client malformed JSON',
        method: 'POST',
        path: '/claude/v1/chat/completions?key=canary-QKEY18',
        body: '{"model": "claude-sonnet-4-6", "messages": [',
        status: 400,
      },
      {
        failure: 'anthropic relay: upstream sends no headers',
        method: 'POST',
        path: '/anthropic/v1/messages',
        body: anthropicBody('fail:stall'),
        status: 504,
      },
      {
        failure: 'anthropic relay: stream reset mid-way',
        method: 'POST',
        path: '/anthropic/v1/messages',
        body: anthropicBody('fail:reset-mid-stream', { stream: true }),
        status: 200,
      },
      {
        failure: 'claude web: upstream down',
        method: 'POST',
        path: `/claude/${ORG}/v1/chat/completions`,
        body: claudeBody('hello'),
        status: 503,
      },
      {
        failure: 'gemini relay: upstream 500',
        method: 'POST',
        path: '/gemini/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaSyCanary-QGOOG24',
        body: geminiBody('fail:server-error'),
        status: 500,
      },
      {
        failure: 'gemini relay: stream reset mid-way',
        method: 'POST',
        path: '/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=canary-QKEY18',
        body: geminiBody('fail:reset-mid-stream'),
        status: 200,
      },
      {
        failure: 'gemini bridge: upstream malformed JSON',
        method: 'POST',
        path: '/google/v1/chat/completions',
        body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'fail:malformed' }] }),
        status: 502,
      },
      {
        failure: 'bard: upstream resets',
        method: 'POST',
        path: '/google/bard',
        body: JSON.stringify({ prompt: 'hello' }),
        status: 502,
      },
      {
        failure: 'team: upstream 500 on a pool key',
        method: 'POST',
        path: '/v1/chat/completions',
        headers: withGatewayKey,
        body: chatBody('fail:server-error'),
        status: 500,
      },
      {
        failure: 'team: stream reset mid-way on a pool key',
        method: 'POST',
        path: '/v1/chat/completions',
        headers: withGatewayKey,
        body: chatBody('fail:reset-mid-stream', { stream: true }),
        status: 200,
      },
      {
        failure: 'team: anthropic overloaded on a pool key',
        method: 'POST',
        path: '/v1/chat/completions',
        headers: withGatewayKey,
        body: claudeBody('fail:overloaded'),
        status: 503,
      },
      {
        failure: 'team: unknown gateway key',
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: `Bearer ${UNKNOWN_GATEWAY_KEY}` },
        body: chatBody('hello'),
        status: 401,
      },
      {
        failure: 'team: malformed JSON with a gateway key',
        method: 'POST',
        path: '/v1/chat/completions',
        headers: withGatewayKey,
        body: '{"model": "gpt-4o-mini", "messages": [',
        status: 400,
      },
      {
        failure: 'admin: wrong admin token',
        method: 'GET',
        path: '/admin/keys',
        headers: { authorization: 'Bearer admin-canary-token-ADMTOKEN15-wrong' },
        status: 401,
      },
      {
        failure: 'admin: malformed body with the admin token',
        method: 'POST',
        path: '/admin/keys',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: '{"name": ',
        status: 400,
      },
    ];
    // The relay's own failures once more, sent to it directly: its answers and its log must hold no canary either.
    const toRelay = throughGateway
      .filter((probe) => /^\/(openai|downprov)\//.test(probe.path))
      .map((probe) => ({ ...probe, failure: `${probe.failure} (relay directly)` }));
    probes = [...throughGateway, ...toRelay];
    answers = [];
    for (const probe of throughGateway) {
      answers.push(await sendProbe(stack.gatewayUrl, CLIENT_CANARIES, probe));
    }
    for (const probe of toRelay) {
      answers.push(await sendProbe(stack.relayUrl, CLIENT_CANARIES, probe));
    }
  }, 30_000);

  afterAll(() => stack.close());

  it('should have provoked each failure it names (the status each one gives)', () => {
    expect(Object.fromEntries(answers.map((answer) => [answer.probe.failure, answer.status]))).toEqual(
      Object.fromEntries(probes.map((probe) => [probe.failure, probe.status])),
    );
  });

  it('should end the streams that failed mid-way with an error the client can see', () => {
    const cut = answers.filter((answer) => answer.probe.failure.includes('mid-way'));
    expect(cut.map((answer) => [answer.probe.failure, answer.body.includes('"error"')])).toEqual(
      cut.map((answer) => [answer.probe.failure, true]),
    );
  });

  it('should show no credential in any answer a client got, error bodies and headers alike', () => {
    expect(leaksInAnswers(answers, [...MARKERS, gatewayKey.slice(-12)])).toEqual({});
  });

  it('should write no credential to any debug log line, while logging every request and its headers', () => {
    const report = canaryLogReport(stack.logs.text, 'x-api-key', asCanaryCalls(probes), [
      ...MARKERS,
      gatewayKey.slice(-12),
    ]);
    expect(report).toEqual({ headerLogged: true, unloggedPaths: [], leakedSecrets: [] });
  });

  it('should put no credential in any service /metrics text, which counts the failures', async () => {
    const metrics = await metricsOf(serviceUrls());
    const relayMetrics = metrics[stack.relayUrl] ?? '';
    expect(relayMetrics).toContain('upstream_errors_total{upstream="openai",kind="upstream_timeout"}');
    expect(relayMetrics).toContain('upstream_errors_total{upstream="downprov",kind="upstream_unavailable"}');
    expect(metrics[stack.gatewayUrl]).toContain('status="401"');
    const leaks = Object.fromEntries(
      Object.entries(metrics).map(([url, body]) => [url, secretsIn(body, [...MARKERS, gatewayKey.slice(-12)])]),
    );
    expect(leaks).toEqual(Object.fromEntries(serviceUrls().map((url) => [url, []])));
  });
});
