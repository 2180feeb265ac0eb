import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { SseDecoder, type StreamItem } from '@openai-proxy/util-sse';
import type { AnthropicMessagesResponse } from './anthropic.types';
import { toGatewayError } from './error.transform';
import { toAnthropicRequest } from './request.transform';
import { toChatCompletion } from './response.transform';
import { AnthropicStreamTransformer } from './stream.transform';

const fixture = (name: string): string => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
const fixtureJson = <T>(name: string): T => JSON.parse(fixture(name)) as T;

describe('toAnthropicRequest', () => {
  it('should match the golden fixture (developer parts, late system, parallel tool calls and results, json_object)', () => {
    const translation = toAnthropicRequest(fixtureJson<ChatCompletionRequest>('request-tools-images.openai.json'), {
      defaultMaxTokens: 4096,
    });
    expect(translation.body).toEqual(fixtureJson('request-tools-images.anthropic.json'));
    expect(translation.notes).toEqual(['response_format json_object is emulated with a system instruction']);
  });

  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ seed: 7 }, 'seed'],
    [{ response_format: { type: 'json_schema' } }, 'response_format'],
  ])('should refuse %p naming %s', (extra, param) => {
    const request = {
      model: 'm',
      messages: [{ role: 'user' as const, content: 'x' }],
      ...extra,
    } as ChatCompletionRequest;
    expect(() => toAnthropicRequest(request, { defaultMaxTokens: 1 })).toThrow(GatewayException);
    try {
      toAnthropicRequest(request, { defaultMaxTokens: 1 });
    } catch (error) {
      expect((error as GatewayException).param).toBe(param);
    }
  });

  it('should accept neutral values of unsupported parameters (n: 1, penalties 0)', () => {
    const request = {
      model: 'm',
      messages: [{ role: 'user' as const, content: 'x' }],
      n: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
    } as ChatCompletionRequest;
    expect(toAnthropicRequest(request, { defaultMaxTokens: 5 }).body.max_tokens).toBe(5);
  });

  it('should refuse invalid tool arguments and unknown image URLs with the field named', () => {
    const badArguments = {
      model: 'm',
      messages: [
        {
          role: 'assistant' as const,
          content: '',
          tool_calls: [{ id: 'c', type: 'function' as const, function: { name: 'f', arguments: '{oops' } }],
        },
      ],
    };
    expect(() => toAnthropicRequest(badArguments, { defaultMaxTokens: 1 })).toThrow(
      expect.objectContaining({ param: 'messages[0].tool_calls[0].function.arguments' }),
    );
    const badImage = {
      model: 'm',
      messages: [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: 'ftp://x' } }] }],
    };
    expect(() => toAnthropicRequest(badImage, { defaultMaxTokens: 1 })).toThrow(
      expect.objectContaining({ param: 'messages[0].content[0].image_url.url' }),
    );
    expect(() =>
      toAnthropicRequest({ model: 'm', messages: [{ role: 'system', content: 'only' }] }, { defaultMaxTokens: 1 }),
    ).toThrow(expect.objectContaining({ param: 'messages' }));
  });
});

describe('toChatCompletion', () => {
  it('should match the golden fixture (thinking left out, tool call, cache tokens in the prompt count)', () => {
    expect(
      toChatCompletion(fixtureJson<AnthropicMessagesResponse>('response-thinking-tool.anthropic.json'), 1_700_000_000),
    ).toEqual(fixtureJson('response-thinking-tool.openai.json'));
  });
});

describe(AnthropicStreamTransformer.name, () => {
  const bytes = Buffer.from(fixture('stream-text-tool.anthropic.sse'), 'utf8');
  const expected = fixtureJson<unknown[]>('stream-text-tool.openai.json');

  function replay(cuts: number[]): StreamItem[] {
    const decoder = new SseDecoder();
    const transformer = new AnthropicStreamTransformer({
      createdSeconds: 1_700_000_000,
      model: 'requested',
      includeUsage: true,
    });
    const items: StreamItem[] = [];
    let previous = 0;
    for (const cut of [...cuts, bytes.length]) {
      for (const event of decoder.push(bytes.subarray(previous, cut))) {
        items.push(...transformer.transform(event));
      }
      previous = cut;
    }
    for (const event of decoder.end()) {
      items.push(...transformer.transform(event));
    }
    items.push(...transformer.flush());
    return items;
  }

  it('should produce the golden chunks', () => {
    expect(replay([]).map((item) => (item.kind === 'chunk' ? item.chunk : item))).toEqual(expected);
  });

  it('should produce the same chunks when the stream is split at every byte offset', () => {
    for (let offset = 1; offset < bytes.length; offset += 1) {
      expect(replay([offset]).map((item) => (item.kind === 'chunk' ? item.chunk : item))).toEqual(expected);
    }
  });

  it('should report a stream that ends before message_stop as an error', () => {
    const transformer = new AnthropicStreamTransformer({ createdSeconds: 1, model: 'm', includeUsage: false });
    transformer.transform({
      event: 'message_start',
      data: '{"type":"message_start","message":{"id":"x","model":"m"}}',
      id: undefined,
    });
    const [item] = transformer.flush();
    expect(item?.kind).toBe('error');
  });
});

describe('toGatewayError', () => {
  it.each([
    [400, 'invalid_request_error', 400],
    [401, 'authentication_error', 401],
    [403, 'permission_error', 403],
    [404, 'not_found_error', 404],
    [413, 'request_too_large', 413],
    [429, 'rate_limit_error', 429],
    [500, 'api_error', 500],
    [529, 'overloaded_error', 503],
    // Regression: a spent account (402) fell through to 500, which reads as retryable; a timeout had no status.
    [402, 'billing_error', 429],
    [504, 'timeout_error', 504],
  ])('should map %i %s to %i', (status, type, expectedStatus) => {
    const error = toGatewayError(status, { type: 'error', error: { type, message: 'why' } }, undefined);
    expect(error.status).toBe(expectedStatus);
    expect(error.toEnvelope().error.message).toBe('why');
  });

  it('should fall back on the status, then on a server error, and keep Retry-After', () => {
    expect(toGatewayError(429, 'not json', '3').headers).toEqual({ 'retry-after': '3' });
    expect(toGatewayError(429, 'not json', '3').code).toBe(ErrorCode.RateLimited);
    expect(toGatewayError(502, undefined, undefined).status).toBe(500);
  });
});

describe('AnthropicStreamTransformer with a tool that takes no input (regression: arguments streamed as "")', () => {
  it('should stream {} as the arguments, as the non-streamed answer does', () => {
    const transformer = new AnthropicStreamTransformer({ createdSeconds: 1, model: 'm', includeUsage: false });
    const event = (type: string, payload: unknown): { event: string; data: string; id: undefined } => ({
      event: type,
      data: JSON.stringify({ type, ...(payload as object) }),
      id: undefined,
    });
    const items = [
      ...transformer.transform(event('message_start', { message: { id: 'x', model: 'm', usage: {} } })),
      ...transformer.transform(
        event('content_block_start', {
          index: 0,
          content_block: { type: 'tool_use', id: 't', name: 'now', input: {} },
        }),
      ),
      ...transformer.transform(
        event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '' } }),
      ),
      ...transformer.transform(event('content_block_stop', { index: 0 })),
      ...transformer.transform(
        event('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 3 } }),
      ),
      ...transformer.transform(event('message_stop', {})),
    ];
    const args = items
      .map((item) =>
        item.kind === 'chunk' ? (item.chunk.choices[0]?.delta.tool_calls?.[0]?.function.arguments ?? '') : '',
      )
      .join('');
    expect(JSON.parse(args)).toEqual({});
  });
});
