import assert from 'node:assert/strict';
import type { FakeHandler, FakeUpstream } from './fake-upstream';
import { sse } from './fake-responses';
import {
  type ChatOptions,
  answerText,
  chat,
  chatCalls,
  frames,
  lastChatBody,
  sseDeltaText,
} from './provider-contract.requests';
import { streamReportCases } from './provider-contract.report-cases';
import type {
  ChatContractFixture,
  ContractCase,
  LackedFeatures,
  ProviderContractFixture,
} from './provider-contract.types';

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const IMAGE_CONTENT = [
  { type: 'text', text: 'what is this?' },
  { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } },
];

function endsCleanly(text: string): void {
  assert.ok(text.endsWith('data: [DONE]\n\n'), 'the stream ends with [DONE]');
}

function endsWithError(text: string, code: string): void {
  assert.ok(text.includes(`"code":"${code}"`), `the stream carries a ${code} error frame`);
  endsCleanly(text);
}

/** A case asserting a 400 naming `param`, and that the provider got no call for it. */
function refusedCase(
  fixture: ProviderContractFixture,
  name: string,
  param: string,
  options: ChatOptions,
): ContractCase {
  return {
    name,
    async run({ upstream, url }) {
      const before = chatCalls(fixture, upstream).length;
      const response = await chat(fixture, url, options);
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: { code: string; param: unknown } };
      assert.equal(body.error.param, param);
      assert.equal(chatCalls(fixture, upstream).length, before, 'the provider got no call');
    },
  };
}

/** The cases every provider runs: a text answer with its usage, and a provider error before the answer. */
function commonCases(
  fixture: ProviderContractFixture,
  script: (upstream: FakeUpstream, handler: FakeHandler) => void,
): ContractCase[] {
  return [
    {
      name: 'should answer a text completion and report its usage when the client does not stream',
      async run({ url, reports }) {
        const report = reports.next();
        const response = await chat(fixture, url, {});
        assert.equal(response.status, 200);
        assert.match(answerText(fixture, await response.json()), /Hello/);
        assert.deepEqual(await report, fixture.usage);
      },
    },
    {
      name: 'should answer a provider error with its status, OpenAI envelope and Retry-After when it comes first',
      async run({ upstream, url }) {
        script(upstream, fixture.rateLimited);
        const response = await chat(fixture, url, { stream: true });
        assert.equal(response.status, 429);
        assert.equal(response.headers.get('retry-after'), '7');
        const body = (await response.json()) as { error: { code: string; param: unknown } };
        assert.equal(body.error.code, 'rate_limit_exceeded');
        assert.equal(body.error.param, null);
      },
    },
  ];
}

/** The stream cases of a chat completions provider. */
function streamCases(
  fixture: ChatContractFixture,
  script: (upstream: FakeUpstream, handler: FakeHandler) => void,
): ContractCase[] {
  const { textFrames, midStreamErrorFrames } = fixture.streaming;
  return [
    {
      name: 'should report the usage of a stream when the client did not ask for a usage chunk',
      async run({ url, reports }) {
        const report = reports.next();
        const text = await (await chat(fixture, url, { stream: true })).text();
        assert.match(sseDeltaText(text), /Hello/);
        assert.ok(!frames(text).some((chunk) => chunk['usage'] !== undefined), 'no usage chunk was asked for');
        endsCleanly(text);
        assert.deepEqual(await report, fixture.usage);
      },
    },
    {
      name: 'should end a stream with an error frame then [DONE] when the provider fails mid-stream',
      async run({ upstream, url }) {
        script(upstream, sse({ frames: midStreamErrorFrames('partial') }));
        const text = await (await chat(fixture, url, { stream: true })).text();
        assert.equal(sseDeltaText(text), 'partial');
        assert.ok(
          frames(text).some((chunk) => chunk['error'] !== undefined),
          'an error frame came',
        );
        endsCleanly(text);
      },
    },
    {
      name: 'should end a stream with upstream_bad_response when a frame is malformed',
      async run({ upstream, url }) {
        const [first = ''] = textFrames(['one', 'two']);
        script(upstream, sse({ frames: [first, 'data: {"not json\n\n', ...textFrames(['three']).slice(1)] }));
        const text = await (await chat(fixture, url, { stream: true })).text();
        assert.ok(!text.includes('three'), 'nothing after the malformed frame');
        endsWithError(text, 'upstream_bad_response');
      },
    },
    {
      name: 'should translate a stream split at awkward byte offsets as if it came whole',
      async run({ upstream, url }) {
        const words = ['Hé', 'llo ', 'wörld ', '🙂'];
        script(upstream, sse({ frames: textFrames(words), splitBytes: 3 }));
        const text = await (await chat(fixture, url, { stream: true })).text();
        assert.equal(sseDeltaText(text), words.join(''));
        assert.ok(!text.includes('"error"'), 'no error frame');
        endsCleanly(text);
      },
    },
  ];
}

function usageChunkCase(fixture: ChatContractFixture, lacks: LackedFeatures): ContractCase {
  if (lacks.usage === 'not reported') {
    return {
      name: 'should send no made-up usage chunk and report no usage when include_usage is asked of a provider without token counts',
      async run({ url, reports }) {
        const report = reports.next();
        const text = await (await chat(fixture, url, { stream: true, includeUsage: true })).text();
        assert.match(sseDeltaText(text), /Hello/);
        assert.ok(!frames(text).some((chunk) => chunk['usage'] !== undefined), 'no usage numbers were invented');
        endsCleanly(text);
        assert.equal(await report, undefined);
      },
    };
  }
  return {
    name: 'should end a stream with a usage chunk when the client asks for include_usage',
    async run({ url }) {
      const text = await (await chat(fixture, url, { stream: true, includeUsage: true })).text();
      const last = frames(text).at(-1) as { choices?: unknown[]; usage?: { prompt_tokens?: number } };
      assert.deepEqual(last.choices, []);
      assert.equal(last.usage?.prompt_tokens, fixture.usage?.promptTokens);
    },
  };
}

function toolsCase(fixture: ChatContractFixture, lacks: LackedFeatures): ContractCase {
  const options = { content: 'weather in Paris?', tools: [WEATHER_TOOL] };
  if (lacks.tools === 'not sent') {
    return {
      name: 'should answer with text and send the provider no tool definitions when it has no tools',
      async run({ upstream, url }) {
        const response = await chat(fixture, url, options);
        assert.equal(response.status, 200);
        assert.match(answerText(fixture, await response.json()), /Hello/);
        const sent = lastChatBody(fixture, upstream);
        assert.match(sent, /weather in Paris/, 'the question reached the provider');
        assert.ok(!sent.includes('get_weather'), 'no tool definition reached the provider');
      },
    };
  }
  if (lacks.tools !== undefined) {
    return refusedCase(
      fixture,
      'should refuse tools with a 400 naming the param when the provider has none',
      lacks.tools.refused.param,
      options,
    );
  }
  return {
    name: 'should answer a tool call with finish_reason tool_calls when the model calls a tool',
    async run({ url }) {
      const response = await chat(fixture, url, options);
      const body = (await response.json()) as {
        choices: Array<{ finish_reason: string; message: { tool_calls?: Array<{ function: { name: string } }> } }>;
      };
      assert.equal(body.choices[0]?.finish_reason, 'tool_calls');
      assert.equal(body.choices[0]?.message.tool_calls?.[0]?.function.name, 'get_weather');
    },
  };
}

function imagesCase(fixture: ChatContractFixture, lacks: LackedFeatures): ContractCase {
  if (lacks.images !== undefined) {
    return refusedCase(
      fixture,
      'should refuse an image with a 400 naming its param, the provider not called, when it takes text only',
      lacks.images.refused.param,
      { content: IMAGE_CONTENT },
    );
  }
  return {
    name: 'should send an image given as a data URL to the provider as base64 data',
    async run({ upstream, url }) {
      assert.equal((await chat(fixture, url, { content: IMAGE_CONTENT })).status, 200);
      assert.ok(lastChatBody(fixture, upstream).includes(PIXEL), 'the upstream got the image');
    },
  };
}

/**
 * The same cases for every provider adapter, run through its bridge and the provider pipeline against its fake
 * upstream: text, tools, images, usage, a provider error, a mid-stream error, malformed and split frames, and
 * the reports of streams that do not complete. What a provider lacks is a case of how it behaves instead; what
 * its route cannot ask for (a dialect's `cannotAsk`) makes no case.
 */
export function providerContractCases(fixture: ProviderContractFixture): ContractCase[] {
  const script = (upstream: FakeUpstream, handler: FakeHandler): void => {
    upstream.on(fixture.chatRoute.method, fixture.chatRoute.path, handler);
  };
  if ('dialect' in fixture) {
    return commonCases(fixture, script);
  }
  const lacks = fixture.lacks ?? {};
  return [
    ...commonCases(fixture, script),
    ...streamCases(fixture, script),
    ...streamReportCases(fixture, script),
    usageChunkCase(fixture, lacks),
    toolsCase(fixture, lacks),
    imagesCase(fixture, lacks),
  ];
}
