import { z } from 'zod';
import {
  IdleCutProxy,
  anthropicMessageStartFrame,
  anthropicTextBlockStartFrame,
  anthropicTextDeltaFrame,
} from '@openai-proxy/testing-fakes';
import { SSE_DONE_FRAME, SSE_PING_FRAME, encodeSseEvent } from '@openai-proxy/util-sse';
import { type Stack, startStack } from './support/stack';
import {
  ClientStream,
  STREAMED_CHAT_BODY,
  type StreamRead,
  USAGE_FRAME,
  chatChunkFrame,
  quietStream,
} from './support/slow-streams';

// A load balancer cuts a connection on which nothing passed for its idle timeout. Here that balancer is a TCP
// proxy with a 3-second idle cut in front of the gateway, and the model goes quiet for 7 s in the middle of its
// answer: with heartbeats every second the stream lives through the silence; without them the proxy cuts it.

const IDLE_CUT_MS = 3_000;
const QUIET_MS = 7_000;
const HEARTBEAT_MS = '1000';
const READ_WITHIN_MS = 15_000;

const OPENAI_BEFORE = [chatChunkFrame('a'), chatChunkFrame('b')];
const OPENAI_AFTER = [chatChunkFrame('c'), USAGE_FRAME, SSE_DONE_FRAME];

const ANTHROPIC_BEFORE = [
  anthropicMessageStartFrame('msg_quiet01', 'claude-sonnet-4-6', { input_tokens: 5, output_tokens: 1 }),
  anthropicTextBlockStartFrame(),
  anthropicTextDeltaFrame('Hello'),
];
const ANTHROPIC_AFTER = [
  anthropicTextDeltaFrame(' after the silence'),
  encodeSseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
  encodeSseEvent('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 4 },
  }),
  encodeSseEvent('message_stop', { type: 'message_stop' }),
];

const CLAUDE_CHAT_BODY = JSON.stringify({
  model: 'claude-sonnet-4-6',
  stream: true,
  messages: [{ role: 'user', content: 'think first' }],
});
const ANTHROPIC_KEY = 'sk-ant-api03-test-key';

const chatChunkSchema = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }) })),
});

/** The text of the content deltas of an OpenAI chat stream (the translated one a bridge sends). */
function deltaText(text: string): string {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: {'))
    .map((frame) => chatChunkSchema.parse(JSON.parse(frame.slice('data: '.length))).choices[0]?.delta.content ?? '')
    .join('');
}

/** A stack whose every hop sends heartbeats every `heartbeatMs` ('0': none), behind an idle-cutting proxy. */
async function stackBehindProxy(heartbeatMs: string): Promise<{ stack: Stack; proxy: IdleCutProxy }> {
  const heartbeat = { STREAM_HEARTBEAT_MS: heartbeatMs };
  const stack = await startStack({ relayEnv: heartbeat, gatewayEnv: heartbeat, claudeEnv: heartbeat });
  const proxy = await IdleCutProxy.start(Number(new URL(stack.gatewayUrl).port), IDLE_CUT_MS);
  return { stack, proxy };
}

describe('heartbeats through a TCP proxy that cuts connections idle for 3 s', () => {
  let beating: { stack: Stack; proxy: IdleCutProxy };
  let silent: { stack: Stack; proxy: IdleCutProxy };

  beforeAll(async () => {
    [beating, silent] = await Promise.all([stackBehindProxy(HEARTBEAT_MS), stackBehindProxy('0')]);
  });

  afterAll(async () => {
    await Promise.all([beating, silent].flatMap(({ stack, proxy }) => [proxy.close(), stack.close()]));
  });

  /** Reads one stream from `path` through `proxy`. */
  function readThrough(proxy: IdleCutProxy, path: string, body: string, apiKey?: string): Promise<StreamRead> {
    return new ClientStream(`${proxy.url}${path}`, body, READ_WITHIN_MS, apiKey).read;
  }

  describe('a relayed stream (gateway → openai-relay → OpenAI)', () => {
    it('should keep a stream that goes quiet for 7 s alive with a ping every second, and complete it', async () => {
      const { stack, proxy } = beating;
      stack.openai.on('POST', '/v1/chat/completions', quietStream(OPENAI_BEFORE, QUIET_MS, OPENAI_AFTER));
      const read = await readThrough(proxy, '/openai/v1/chat/completions', STREAMED_CHAT_BODY);
      expect(read).toMatchObject({ status: 200, failure: undefined });
      expect(read.text).toContain(SSE_PING_FRAME);
      expect(read.text.replaceAll(SSE_PING_FRAME, '')).toBe([...OPENAI_BEFORE, ...OPENAI_AFTER].join(''));
      expect(proxy.cuts).toEqual([]);
    }, 20_000);

    it('should be cut by the proxy when heartbeats are off, and the cut should reach the upstream', async () => {
      const { stack, proxy } = silent;
      const cutsBefore = proxy.cuts.length;
      stack.openai.on('POST', '/v1/chat/completions', quietStream(OPENAI_BEFORE, QUIET_MS, OPENAI_AFTER));
      const read = await readThrough(proxy, '/openai/v1/chat/completions', STREAMED_CHAT_BODY);
      expect(read.status).toBe(200);
      expect(read.failure).toBeDefined();
      expect(read.text).toBe(OPENAI_BEFORE.join(''));
      const cut = await proxy.waitForCut(cutsBefore);
      expect(cut.cutAt - cut.lastByteAt).toBeGreaterThanOrEqual(IDLE_CUT_MS);
      const call = stack.openai.lastRequest('/v1/chat/completions');
      expect(call).toBeDefined();
      if (call !== undefined) {
        await stack.openai.waitForClose(call, 2_000);
        expect(call.closedEarly).toBe(true);
      }
    }, 20_000);
  });

  describe('a translated stream (gateway → claude-bridge → Anthropic)', () => {
    it('should keep a stream that goes quiet for 7 s alive with a ping every second, and complete it', async () => {
      const { stack, proxy } = beating;
      stack.anthropic.on('POST', '/v1/messages', quietStream(ANTHROPIC_BEFORE, QUIET_MS, ANTHROPIC_AFTER));
      const read = await readThrough(proxy, '/claude/v1/chat/completions', CLAUDE_CHAT_BODY, ANTHROPIC_KEY);
      expect(read).toMatchObject({ status: 200, failure: undefined });
      expect(read.text).toContain(SSE_PING_FRAME);
      expect(deltaText(read.text)).toBe('Hello after the silence');
      expect(read.text.endsWith(SSE_DONE_FRAME)).toBe(true);
      expect(proxy.cuts).toEqual([]);
    }, 20_000);

    it('should be cut by the proxy when heartbeats are off, and the cut should reach Anthropic', async () => {
      const { stack, proxy } = silent;
      const cutsBefore = proxy.cuts.length;
      stack.anthropic.on('POST', '/v1/messages', quietStream(ANTHROPIC_BEFORE, QUIET_MS, ANTHROPIC_AFTER));
      const read = await readThrough(proxy, '/claude/v1/chat/completions', CLAUDE_CHAT_BODY, ANTHROPIC_KEY);
      expect(read.status).toBe(200);
      expect(read.failure).toBeDefined();
      expect(deltaText(read.text)).toBe('Hello');
      expect(read.text).not.toContain(SSE_DONE_FRAME);
      const cut = await proxy.waitForCut(cutsBefore);
      expect(cut.cutAt - cut.lastByteAt).toBeGreaterThanOrEqual(IDLE_CUT_MS);
      const call = stack.anthropic.lastRequest('/v1/messages');
      expect(call).toBeDefined();
      if (call !== undefined) {
        await stack.anthropic.waitForClose(call, 2_000);
        expect(call.closedEarly).toBe(true);
      }
    }, 20_000);
  });
});
