import {
  type FaultPlan,
  type FaultRecord,
  FaultUpstream,
  type FaultUpstreamOptions,
  anthropicFrames,
  anthropicStreamError,
  openAiChatFrames,
} from '@openai-proxy/testing-fakes';
import { encodeSseData } from '@openai-proxy/util-sse';
import { type Env, type Stack, startStack } from './stack';
import { ClientCall } from './stream-client';
import { createGatewayKey } from './team';

/** A client's Anthropic key: the claude-bridge sends it on as `x-api-key`. */
export const CLIENT_ANTHROPIC_KEY = 'sk-ant-api03-fault-client-key';
/** A client's Gemini key: the bard-bridge sends it on as `x-goog-api-key`. */
export const CLIENT_GEMINI_KEY = 'AIzaFaultClientKey0123456789';
/** A client's OpenAI key: the relay sends it on as it came. */
const CLIENT_OPENAI_KEY = 'sk-fault-client-0123456789';

/** The Gemini stream frame carrying `text`; the last one of a stream has its finishReason and usage. */
function geminiFrame(text: string, last: boolean): string {
  return encodeSseData({
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) },
    ],
    modelVersion: 'gemini-2.5-flash',
    ...(last ? { usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 } } : {}),
  });
}

/** A whole `streamGenerateContent?alt=sse` stream: one frame per word, the last with finishReason STOP. */
function geminiFrames(words: readonly string[]): string[] {
  return words.map((word, index) => geminiFrame(word, index === words.length - 1));
}

/** The error frame Gemini sends inside a stream that failed after it started. */
function geminiStreamError(message: string): string {
  return encodeSseData({ error: { code: 503, message, status: 'UNAVAILABLE' } });
}

/**
 * How a provider answers, as a fault plan's body: a complete stream, its error frame for a failure mid-stream,
 * the JSON error body it sends with a 429 or 5xx status before any stream, and a plain JSON answer.
 */
export interface ProviderAnswers {
  /** A complete stream of these words (with its terminator, whatever the provider's is). */
  complete(words: readonly string[]): string[];
  /** The provider's own error frame, sent in place of the rest of a stream. */
  error(message: string): string;
  /** The provider's JSON error body for `status` (429 or 5xx). */
  errorBody(status: number, message: string): unknown;
  /** The provider's JSON answer to a request that did not stream, its text `text`. */
  answer(text: string): unknown;
}

const OPENAI_ANSWERS: ProviderAnswers = {
  complete: (words) => openAiChatFrames(words),
  error: (message) => encodeSseData({ error: { message, type: 'server_error', param: null, code: null } }),
  errorBody: (status, message) => ({
    error: { message, type: status === 429 ? 'rate_limit_error' : 'server_error', param: null, code: null },
  }),
  answer: (text) => ({
    id: 'chatcmpl-fault01',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [
      { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  }),
};

const ANTHROPIC_ANSWERS: ProviderAnswers = {
  complete: (words) => anthropicFrames(words),
  error: (message) => anthropicStreamError('overloaded_error', message),
  errorBody: (status, message) => ({
    type: 'error',
    error: { type: status === 429 ? 'rate_limit_error' : 'overloaded_error', message },
  }),
  answer: (text) => ({
    id: 'msg_fault01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 2 },
  }),
};

const GEMINI_ANSWERS: ProviderAnswers = {
  complete: geminiFrames,
  error: geminiStreamError,
  errorBody: (status, message) => ({
    error: { code: status, message, status: status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE' },
  }),
  answer: (text) => ({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
    modelVersion: 'gemini-2.5-flash',
  }),
};

/** The chat routes of a fault stack, by the name tests give them. */
export const STREAM_ROUTE_NAMES = [
  'relay /openai',
  'team /v1',
  'claude-bridge /claude/v1',
  'bard-bridge /google/v1',
] as const;

/** How a test names a chat route of a fault stack. */
export type StreamRouteName = (typeof STREAM_ROUTE_NAMES)[number];

/** One route a client streams a chat completion on, and the fault upstream its request ends at. */
export interface StreamRoute {
  name: StreamRouteName;
  /** The gateway path of the chat completions call. */
  path: string;
  /** The model the request asks for. */
  model: string;
  /** The client's bearer token on this route. */
  apiKey: string;
  upstream: FaultUpstream;
  /** The upstream path the call arrives at (its start). */
  upstreamPath: string;
  answers: ProviderAnswers;
}

/** The stack with a fault upstream in place of each provider API, and the chat routes that reach them. */
export interface FaultStack {
  stack: Stack;
  openai: FaultUpstream;
  anthropic: FaultUpstream;
  gemini: FaultUpstream;
  /** relay `/openai`, team `/v1` (gateway → relay), claude-bridge `/claude/v1`, bard-bridge `/google/v1`. */
  routes: StreamRoute[];
  close(): Promise<void>;
}

/** What a fault stack is started with: variables for every service (`env`), then for each one. */
export interface FaultStackOptions {
  env?: Env;
  relayEnv?: Env;
  gatewayEnv?: Env;
  claudeEnv?: Env;
  bardEnv?: Env;
  /** How the fault upstreams treat their connections (a short keep-alive). */
  upstreams?: FaultUpstreamOptions;
}

/**
 * The gateway's team-mode variables: gateway keys optional (a provider key still passes on its own route), an
 * in-memory database, and one held key per provider.
 */
const TEAM_ENV: Env = {
  GATEWAY_KEYS: 'optional',
  DATABASE_URL: 'sqlite::memory:',
  OPENAI_API_KEY: 'sk-fault-pool-0123456789',
  ANTHROPIC_API_KEY: 'sk-ant-api03-fault-pool-key',
  GEMINI_API_KEY: 'AIzaFaultPoolKey0123456789',
};

/**
 * The whole product (gateway in team mode, relay, both bridges) with fault upstreams for OpenAI, Anthropic and
 * Gemini: every data-plane hop a client's chat stream can take ends at a fake the test scripts.
 */
export async function startFaultStack(options: FaultStackOptions = {}): Promise<FaultStack> {
  const [openai, anthropic, gemini] = await Promise.all([
    FaultUpstream.start(options.upstreams),
    FaultUpstream.start(options.upstreams),
    FaultUpstream.start(options.upstreams),
  ]);
  const env = options.env ?? {};
  const stack = await startStack({
    relayEnv: { ...env, OPENAI_API_BASE: openai.url, ...options.relayEnv },
    gatewayEnv: { ...env, ...TEAM_ENV, ...options.gatewayEnv },
    claudeEnv: { ...env, ANTHROPIC_API_BASE: anthropic.url, ...options.claudeEnv },
    bardEnv: { ...env, GEMINI_API_BASE: gemini.url, ...options.bardEnv },
  });
  const { key } = await createGatewayKey(stack.gateway);
  const routes: StreamRoute[] = [
    {
      name: 'relay /openai',
      path: '/openai/v1/chat/completions',
      model: 'gpt-4o-mini',
      apiKey: CLIENT_OPENAI_KEY,
      upstream: openai,
      upstreamPath: '/v1/chat/completions',
      answers: OPENAI_ANSWERS,
    },
    {
      name: 'team /v1',
      path: '/v1/chat/completions',
      model: 'gpt-4o-mini',
      apiKey: key,
      upstream: openai,
      upstreamPath: '/v1/chat/completions',
      answers: OPENAI_ANSWERS,
    },
    {
      name: 'claude-bridge /claude/v1',
      path: '/claude/v1/chat/completions',
      model: 'claude-sonnet-4-6',
      apiKey: CLIENT_ANTHROPIC_KEY,
      upstream: anthropic,
      upstreamPath: '/v1/messages',
      answers: ANTHROPIC_ANSWERS,
    },
    {
      name: 'bard-bridge /google/v1',
      path: '/google/v1/chat/completions',
      model: 'gemini-2.5-flash',
      apiKey: CLIENT_GEMINI_KEY,
      upstream: gemini,
      upstreamPath: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      answers: GEMINI_ANSWERS,
    },
  ];
  return {
    stack,
    openai,
    anthropic,
    gemini,
    routes,
    close: async () => {
      await stack.close();
      await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
    },
  };
}

/** The route of `routes` called `name`; throws when there is none. */
export function routeNamed(routes: readonly StreamRoute[], name: StreamRouteName): StreamRoute {
  const route = routes.find((candidate) => candidate.name === name);
  if (route === undefined) {
    throw new Error(`no stream route named ${name}`);
  }
  return route;
}

/** Starts a streamed chat carrying `marker` on `chat` through the gateway of `faults`, its upstream answering with `plan`. */
export function startChat(faults: FaultStack, chat: StreamRoute, marker: string, plan: FaultPlan): ClientCall {
  chat.upstream.next(plan);
  return new ClientCall(`${faults.stack.gatewayUrl}${chat.path}`, {
    headers: chatHeaders(chat),
    body: chatRequestBody(chat, marker),
  });
}

/** The body of a streamed chat completion on `route`, its one user message `content`. */
export function chatRequestBody(route: StreamRoute, content: string): string {
  return JSON.stringify({ model: route.model, stream: true, messages: [{ role: 'user', content }] });
}

/** The headers of a chat call on `route`: its client key as bearer token, a JSON body. */
export function chatHeaders(route: StreamRoute, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${route.apiKey}`, 'content-type': 'application/json', ...extra };
}

/** Resolves with what `upstream` recorded of the request whose body carries `marker` (bounded wait). */
export function recordWith(upstream: FaultUpstream, marker: string, timeoutMs?: number): Promise<FaultRecord> {
  return upstream.waitFor(
    () => upstream.records.find((record) => record.request.body.includes(marker)),
    timeoutMs,
    `a request carrying ${marker}`,
  );
}

/** Every record of `upstream` whose request body carries `marker`: the attempts one client request caused. */
export function recordsWith(upstream: FaultUpstream, marker: string): FaultRecord[] {
  return upstream.records.filter((record) => record.request.body.includes(marker));
}

/** The number of provider frames up to the one carrying `word`: a cut there leaves that word delivered. */
export function framesThrough(frames: readonly string[], word: string): number {
  const index = frames.findIndex((frame) => frame.includes(word));
  if (index === -1) {
    throw new Error(`no frame carries ${JSON.stringify(word)}`);
  }
  return index + 1;
}
