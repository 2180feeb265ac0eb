// The soak's client side: the kinds of request it sends (plain, streamed, translated, aborted, faulted, team
// mode), one request run and read to its end, and what its end means. A stream is judged by what a client sees:
// the numbered chunks the fake sent (soak-plan.mjs), an OpenAI error frame, `[DONE]`, the status, or the
// connection failing; one that ends looking successful without all its chunks is a false success.
import { createParser } from 'eventsource-parser';
import { JSON_TEXT, planModel, streamText } from './soak-plan.mjs';

/** The longest one request may take before the client gives up on it (a stall the services never ended). */
export const CLIENT_TIMEOUT_MS = 15_000;
/** What a client holds in pass-through mode: any OpenAI key, any Anthropic API key (the fake checks none). */
const OPENAI_KEY = 'sk-soak-0000';
const ANTHROPIC_KEY = 'sk-ant-api03-soak-0000';

/** How a request ended, as its client saw it. */
export const Outcome = {
  /** 200, every chunk in order, then `[DONE]` (or the JSON answer in full). */
  complete: 'complete',
  /** An OpenAI error frame `data: {"error":…}` in the stream. */
  errorFrame: 'error-frame',
  /** A status other than 200. */
  httpError: 'http-error',
  /** The connection failed (reset, bad chunked encoding) with no error frame. */
  cut: 'cut',
  /** The whole text and a clean end, but no `[DONE]`. */
  noDone: 'no-done',
  /** The client left on purpose. */
  aborted: 'aborted',
  /** Nothing ended the request within CLIENT_TIMEOUT_MS. */
  clientTimeout: 'client-timeout',
  /** Ended looking successful (200, a clean end or `[DONE]`, no error) without the whole answer. */
  falseSuccess: 'false-success',
};

/**
 * What a stream's end means. `read`: { status, text, sawDone, sawError, failure } where failure is undefined,
 * 'aborted', 'timeout' or 'transport'; `chunks`: how many the fake was asked to send.
 */
export function classifyStream(read, chunks) {
  if (read.failure === 'aborted') return Outcome.aborted;
  if (read.failure === 'timeout') return Outcome.clientTimeout;
  if (read.status !== 200) return Outcome.httpError;
  if (read.sawError) return Outcome.errorFrame;
  if (read.failure === 'transport') return Outcome.cut;
  const whole = read.text === streamText(chunks);
  if (!whole) return Outcome.falseSuccess;
  return read.sawDone ? Outcome.complete : Outcome.noDone;
}

/** What a JSON answer's end means: the fake's text in a 200, or an honest failure. */
export function classifyJson(read) {
  if (read.failure === 'aborted') return Outcome.aborted;
  if (read.failure === 'timeout') return Outcome.clientTimeout;
  if (read.failure === 'transport') return Outcome.cut;
  if (read.status !== 200) return Outcome.httpError;
  return read.text === JSON_TEXT ? Outcome.complete : Outcome.falseSuccess;
}

/** The content of one OpenAI chunk or answer; undefined when the frame carries none. */
function chunkContent(payload) {
  const choice = Array.isArray(payload?.choices) ? payload.choices[0] : undefined;
  const content = choice?.delta?.content ?? choice?.message?.content;
  return typeof content === 'string' ? content : undefined;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads an event stream: the text of its chunks, whether `[DONE]` and an error frame came, and each chunk's time. */
async function readStream(body, onChunk) {
  const read = { text: '', sawDone: false, sawError: false };
  const parser = createParser({
    onEvent(event) {
      if (event.data === '[DONE]') {
        read.sawDone = true;
        return;
      }
      const payload = parseJson(event.data);
      if (payload?.error !== undefined) read.sawError = true;
      const content = chunkContent(payload);
      if (content !== undefined && content !== '') {
        read.text += content;
        onChunk(read.text);
      }
    },
  });
  const decoder = new TextDecoder();
  for await (const part of body) parser.feed(decoder.decode(part, { stream: true }));
  return read;
}

/** Why a request failed, from the error its read threw and what the client meant to do. */
function failureOf(signal) {
  if (signal.aborted && signal.reason === 'timeout') return 'timeout';
  if (signal.aborted) return 'aborted';
  return 'transport';
}

/**
 * Sends `scenario` through `agent` to `base` and reads the answer to its end. `onGap(ms)`, when given, gets the
 * time between two consecutive content chunks. Answers { scenario, outcome, status, ms }.
 */
export async function runScenario(agent, base, scenario, token, onGap) {
  const started = performance.now();
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort('timeout'), CLIENT_TIMEOUT_MS);
  let beforeFirst;
  if (scenario.abort?.afterMs !== undefined) {
    beforeFirst = setTimeout(() => controller.abort('client'), scenario.abort.afterMs);
  }
  let status = 0;
  let read = { text: '', sawDone: false, sawError: false };
  let failure;
  let last;
  try {
    const url = new URL(scenario.path, base);
    const answer = await agent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? scenario.key}` },
      body: JSON.stringify({
        model: scenario.model,
        stream: scenario.stream,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      signal: controller.signal,
    });
    status = answer.statusCode;
    if (!scenario.stream || status !== 200) {
      const text = await answer.body.text();
      read = { ...read, text: chunkContent(parseJson(text)) ?? '' };
    } else {
      read = await readStream(answer.body, (text) => {
        const now = performance.now();
        if (last !== undefined) onGap?.(now - last);
        last = now;
        const chunks = text.split(' ').length - 1;
        if (scenario.abort?.afterChunks !== undefined && chunks >= scenario.abort.afterChunks) {
          controller.abort('client');
        }
      });
    }
  } catch {
    failure = failureOf(controller.signal);
  } finally {
    clearTimeout(timeout);
    clearTimeout(beforeFirst);
  }
  const result = { ...read, status, failure };
  return {
    scenario: scenario.name,
    outcome: scenario.stream ? classifyStream(result, scenario.chunks) : classifyJson(result),
    status,
    ms: performance.now() - started,
  };
}

/** The routes a scenario may take: through the pass-through gateway to the relay or the bridge, or team mode. */
const ROUTES = {
  relay: { path: '/openai/v1/chat/completions', name: 'gpt-soak', key: OPENAI_KEY, team: false },
  bridge: { path: '/claude/v1/chat/completions', name: 'claude-soak', key: ANTHROPIC_KEY, team: false },
  'team-relay': { path: '/v1/chat/completions', name: 'gpt-soak', key: undefined, team: true },
  'team-bridge': { path: '/v1/chat/completions', name: 'claude-soak', key: undefined, team: true },
};

/** A stream long enough (3 s) that an upstream call its client left and nobody aborted is seen running to its end. */
const LONG = { chunks: 60, gapMs: 50, abandon: true };

/**
 * One kind of request: its route, the fake's plan, whether it streams, when its client leaves, and the only
 * outcome it may end with. `chunks` is what the fake sends when nothing cuts it.
 */
function scenario(route, label, { plan = {}, stream = true, abort, expect = Outcome.complete, weight }) {
  const { path, name, key, team } = ROUTES[route];
  return {
    name: `${route} ${label}`,
    route,
    path,
    team,
    key,
    model: planModel(name, plan),
    stream,
    chunks: plan.chunks ?? 20,
    abort,
    expect,
    weight,
  };
}

/**
 * The mixed soak: plain and streamed through the relay and the translating bridge, clients leaving before and
 * after the first token, the fake resetting, closing early, stalling (the services' idle timeout ends it),
 * sending a provider error event, answering 503, and team-mode requests through the same services.
 * Weights are relative frequencies.
 */
export const MIXED_SCENARIOS = [
  scenario('relay', 'json', { stream: false, weight: 10 }),
  scenario('relay', 'stream', { weight: 10 }),
  scenario('bridge', 'json', { stream: false, weight: 8 }),
  scenario('bridge', 'stream', { weight: 12 }),
  ...['relay', 'bridge'].flatMap((route) => [
    scenario(route, 'abort before first token', {
      plan: { ...LONG, waitMs: 1_000 },
      abort: { afterMs: 200 },
      expect: Outcome.aborted,
      weight: 3,
    }),
    scenario(route, 'abort after first token', {
      plan: LONG,
      abort: { afterChunks: 3 },
      expect: Outcome.aborted,
      weight: 3,
    }),
    scenario(route, 'reset after 5', {
      plan: { cut: { how: 'reset', after: 5 } },
      expect: Outcome.errorFrame,
      weight: 2,
    }),
    scenario(route, 'close after 5', {
      plan: { cut: { how: 'close', after: 5 } },
      expect: Outcome.errorFrame,
      weight: 2,
    }),
    scenario(route, 'stall after 5', {
      plan: { cut: { how: 'stall', after: 5 } },
      expect: Outcome.errorFrame,
      weight: 2,
    }),
    scenario(route, '503', { plan: { fail: true }, expect: Outcome.httpError, weight: 2 }),
  ]),
  scenario('bridge', 'error event after 5', {
    plan: { cut: { how: 'error', after: 5 } },
    expect: Outcome.errorFrame,
    weight: 2,
  }),
  scenario('team-relay', 'json', { stream: false, weight: 6 }),
  scenario('team-relay', 'stream', { weight: 6 }),
  scenario('team-bridge', 'json', { stream: false, weight: 4 }),
  scenario('team-bridge', 'stream', { weight: 6 }),
  scenario('team-bridge', 'reset after 5', {
    plan: { cut: { how: 'reset', after: 5 } },
    expect: Outcome.errorFrame,
    weight: 2,
  }),
  scenario('team-relay', 'abort after first token', {
    plan: LONG,
    abort: { afterChunks: 3 },
    expect: Outcome.aborted,
    weight: 2,
  }),
];

/** Phase A's stream: translated (OpenAI client, Anthropic upstream) through the gateway, 100 chunks 100 ms apart. */
export const FLEET_STREAM = scenario('bridge', 'stream 100x100ms', { plan: { chunks: 100, gapMs: 100 }, weight: 1 });

/** A small deterministic generator (mulberry32), so a run's order of scenarios repeats. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each scenario as often as its weight, shuffled with a fixed seed: the order the soak's clients take them in. */
export function mixedSchedule(scenarios = MIXED_SCENARIOS, seed = 13) {
  const schedule = scenarios.flatMap((entry) => Array.from({ length: entry.weight }, () => entry));
  const next = random(seed);
  for (let index = schedule.length - 1; index > 0; index -= 1) {
    const other = Math.floor(next() * (index + 1));
    [schedule[index], schedule[other]] = [schedule[other], schedule[index]];
  }
  return schedule;
}
