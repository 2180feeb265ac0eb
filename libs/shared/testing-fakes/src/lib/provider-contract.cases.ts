import assert from 'node:assert/strict';
import type { FakeHandler, FakeUpstream } from './fake-upstream';
import { sse } from './fake-responses';

/** The usage a provider call reported, as the provider pipeline returns it (the ledger's shape). */
export interface ContractUsage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens?: number;
  reasoningTokens?: number;
}

/** Hands out the pipeline's call reports to the case waiting for the next one. */
export class ContractReports {
  private readonly waiting: Array<(usage: ContractUsage | undefined) => void> = [];

  /** Called by the fixture with each report the pipeline returned. */
  record(report: { usage: ContractUsage | undefined }): void {
    this.waiting.shift()?.(report.usage);
  }

  /** The usage of the next call that ends (bounded: 5 s). */
  next(): Promise<ContractUsage | undefined> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no call report within 5 s')), 5_000);
      this.waiting.push((usage) => {
        clearTimeout(timer);
        resolve(usage);
      });
    });
  }
}

/** One bridge under test, started against a fake upstream. */
export interface ContractBridge {
  url: string;
  reports: ContractReports;
  close(): Promise<void>;
}

/** What a contract case needs of a provider beyond text chat; a fixture declares what its provider lacks. */
export type ContractFeature = 'tools' | 'images' | 'usage' | 'streaming';

/**
 * How a route that is not chat completions is asked and read (Bard: `{"prompt"}` in, a bare JSON string
 * out); without one the cases send a chat completions body and read `choices[0].message.content`.
 */
export interface ContractDialect {
  /** The body of a plain text question whose answer mentions "Hello". */
  body(): unknown;
  /** The answer's text from its JSON body. */
  text(answer: unknown): string;
}

/** What an adapter brings to the contract cases: its fake, its bridge, and its provider's frames. */
export interface ProviderContractFixture {
  startUpstream(): Promise<FakeUpstream>;
  startBridge(upstreamUrl: string): Promise<ContractBridge>;
  chatPath: string;
  /** Client headers carrying a valid credential. */
  headers: Record<string, string>;
  model: string;
  /** The fake's route that answers chat calls, to script it. */
  chatRoute: { method: string; path: string | RegExp };
  /** The fake's own handler for that route, restored after each scripted case. */
  defaultChat: FakeHandler;
  /** A complete provider stream of these text deltas. */
  textFrames(words: readonly string[]): string[];
  /** A provider stream with one text delta, then the provider's mid-stream error. */
  midStreamErrorFrames(word: string): string[];
  /** The provider's 429 (with `retry-after: 7`) before any stream. */
  rateLimited: FakeHandler;
  /** What the fake's own answers report (streamed and not); undefined for a provider that reports no usage. */
  usage: ContractUsage | undefined;
  /** The features its provider lacks, each with the reason: their cases are listed as not applicable. */
  notApplicable?: { readonly [Feature in ContractFeature]?: string };
  /** The route's own request and answer shape, when it is not chat completions. */
  dialect?: ContractDialect;
}

export interface ContractCase {
  name: string;
  /** Why the case does not apply to this provider (the fixture said so); the runner lists it as skipped. */
  notApplicable?: string;
  run(context: { upstream: FakeUpstream; bridge: ContractBridge }): Promise<void>;
}

/** A case that needs `feature`, marked not applicable when the fixture declares its provider lacks it. */
function needing(fixture: ProviderContractFixture, feature: ContractFeature, contractCase: ContractCase): ContractCase {
  const reason = fixture.notApplicable?.[feature];
  return reason === undefined ? contractCase : { ...contractCase, notApplicable: reason };
}

interface ChatOptions {
  stream?: boolean;
  includeUsage?: boolean;
  content?: unknown;
  tools?: unknown[];
}

function chatBody(fixture: ProviderContractFixture, options: ChatOptions): unknown {
  if (fixture.dialect !== undefined) {
    return fixture.dialect.body();
  }
  return {
    model: fixture.model,
    stream: options.stream === true,
    ...(options.includeUsage === true ? { stream_options: { include_usage: true } } : {}),
    messages: [{ role: 'user', content: options.content ?? 'hi' }],
    ...(options.tools === undefined ? {} : { tools: options.tools }),
  };
}

function chat(fixture: ProviderContractFixture, bridge: ContractBridge, options: ChatOptions): Promise<Response> {
  return fetch(`${bridge.url}${fixture.chatPath}`, {
    method: 'POST',
    headers: { ...fixture.headers, 'content-type': 'application/json' },
    body: JSON.stringify(chatBody(fixture, options)),
    signal: AbortSignal.timeout(10_000),
  });
}

/** The text of a whole answer: by the fixture's dialect, else the first choice's message. */
function answerText(fixture: ProviderContractFixture, body: unknown): string {
  if (fixture.dialect !== undefined) {
    return fixture.dialect.text(body);
  }
  return (body as { choices?: Array<{ message?: { content?: string } }> }).choices?.[0]?.message?.content ?? '';
}

/** The JSON payloads of an OpenAI event stream's `data:` frames, `[DONE]` left out. */
function frames(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: ') && frame !== 'data: [DONE]')
    .map((frame) => JSON.parse(frame.slice(6)) as Record<string, unknown>);
}

function streamedText(text: string): string {
  return frames(text)
    .map((chunk) => (chunk['choices'] as Array<{ delta?: { content?: string } }> | undefined)?.[0]?.delta?.content)
    .join('');
}

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function endsCleanly(text: string): void {
  assert.ok(text.endsWith('data: [DONE]\n\n'), 'the stream ends with [DONE]');
}

function endsWithError(text: string, code: string): void {
  assert.ok(text.includes(`"code":"${code}"`), `the stream carries a ${code} error frame`);
  endsCleanly(text);
}

/**
 * The same cases for every provider adapter, run through its bridge and the provider pipeline against its fake
 * upstream: text, tools, images, usage, a provider error, a mid-stream error, malformed and split frames.
 */
export function providerContractCases(fixture: ProviderContractFixture): ContractCase[] {
  const script = (upstream: FakeUpstream, handler: FakeHandler): void => {
    upstream.on(fixture.chatRoute.method, fixture.chatRoute.path, handler);
  };
  return [
    {
      name: 'should answer a text completion and report its usage when the client does not stream',
      async run({ bridge }) {
        const report = bridge.reports.next();
        const response = await chat(fixture, bridge, {});
        assert.equal(response.status, 200);
        assert.match(answerText(fixture, await response.json()), /Hello/);
        assert.deepEqual(await report, fixture.usage);
      },
    },
    needing(fixture, 'streaming', {
      name: 'should report the usage of a stream when the client did not ask for a usage chunk',
      async run({ bridge }) {
        const report = bridge.reports.next();
        const text = await (await chat(fixture, bridge, { stream: true })).text();
        assert.match(streamedText(text), /Hello/);
        assert.ok(!frames(text).some((chunk) => chunk['usage'] !== undefined), 'no usage chunk was asked for');
        endsCleanly(text);
        assert.deepEqual(await report, fixture.usage);
      },
    }),
    needing(
      fixture,
      'streaming',
      needing(fixture, 'usage', {
        name: 'should end a stream with a usage chunk when the client asks for include_usage',
        async run({ bridge }) {
          const text = await (await chat(fixture, bridge, { stream: true, includeUsage: true })).text();
          const last = frames(text).at(-1) as { choices?: unknown[]; usage?: { prompt_tokens?: number } };
          assert.deepEqual(last.choices, []);
          assert.equal(last.usage?.prompt_tokens, fixture.usage?.promptTokens);
        },
      }),
    ),
    needing(fixture, 'tools', {
      name: 'should answer a tool call with finish_reason tool_calls when the model calls a tool',
      async run({ bridge }) {
        const response = await chat(fixture, bridge, { content: 'weather in Paris?', tools: [WEATHER_TOOL] });
        const body = (await response.json()) as {
          choices: Array<{ finish_reason: string; message: { tool_calls?: Array<{ function: { name: string } }> } }>;
        };
        assert.equal(body.choices[0]?.finish_reason, 'tool_calls');
        assert.equal(body.choices[0]?.message.tool_calls?.[0]?.function.name, 'get_weather');
      },
    }),
    needing(fixture, 'images', {
      name: 'should send an image given as a data URL to the provider as base64 data',
      async run({ upstream, bridge }) {
        const content = [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } },
        ];
        assert.equal((await chat(fixture, bridge, { content })).status, 200);
        assert.ok(upstream.requests.at(-1)?.body.toString('utf8').includes(PIXEL), 'the upstream got the image');
      },
    }),
    {
      name: 'should answer a provider error with its status, OpenAI envelope and Retry-After when it comes first',
      async run({ upstream, bridge }) {
        script(upstream, fixture.rateLimited);
        const response = await chat(fixture, bridge, { stream: true });
        assert.equal(response.status, 429);
        assert.equal(response.headers.get('retry-after'), '7');
        const body = (await response.json()) as { error: { code: string; param: unknown } };
        assert.equal(body.error.code, 'rate_limit_exceeded');
        assert.equal(body.error.param, null);
      },
    },
    needing(fixture, 'streaming', {
      name: 'should end a stream with an error frame then [DONE] when the provider fails mid-stream',
      async run({ upstream, bridge }) {
        script(upstream, sse({ frames: fixture.midStreamErrorFrames('partial') }));
        const text = await (await chat(fixture, bridge, { stream: true })).text();
        assert.equal(streamedText(text), 'partial');
        assert.ok(
          frames(text).some((chunk) => chunk['error'] !== undefined),
          'an error frame came',
        );
        endsCleanly(text);
      },
    }),
    needing(fixture, 'streaming', {
      name: 'should end a stream with upstream_bad_response when a frame is malformed',
      async run({ upstream, bridge }) {
        const [first = ''] = fixture.textFrames(['one', 'two']);
        script(upstream, sse({ frames: [first, 'data: {"not json\n\n', ...fixture.textFrames(['three']).slice(1)] }));
        const text = await (await chat(fixture, bridge, { stream: true })).text();
        assert.ok(!text.includes('three'), 'nothing after the malformed frame');
        endsWithError(text, 'upstream_bad_response');
      },
    }),
    needing(fixture, 'streaming', {
      name: 'should translate a stream split at awkward byte offsets as if it came whole',
      async run({ upstream, bridge }) {
        const words = ['Hé', 'llo ', 'wörld ', '🙂'];
        script(upstream, sse({ frames: fixture.textFrames(words), splitBytes: 3 }));
        const text = await (await chat(fixture, bridge, { stream: true })).text();
        assert.equal(streamedText(text), words.join(''));
        assert.ok(!text.includes('"error"'), 'no error frame');
        endsCleanly(text);
      },
    }),
  ];
}
