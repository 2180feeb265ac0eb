import { encodeSseEvent } from '@openai-proxy/util-sse';
import { type FakeHandler, FakeUpstream, type RecordedRequest } from './fake-upstream';
import { json, sse } from './fake-responses';

interface MessagesBody {
  model?: unknown;
  messages?: Array<{ role?: unknown; content?: unknown }>;
  stream?: unknown;
  tools?: Array<{ name?: unknown }>;
}

export const FAKE_ANTHROPIC_MODELS = ['claude-sonnet-4-6', 'claude-haiku-4-5'];

function parse(request: RecordedRequest): MessagesBody | undefined {
  try {
    return JSON.parse(request.body.toString('utf8')) as MessagesBody;
  } catch {
    return undefined;
  }
}

function lastUserText(body: MessagesBody): string {
  const last = [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');
  const content = last?.content;
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    return content
      .map((block: unknown) =>
        typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text'
          ? String((block as { text?: unknown }).text)
          : '',
      )
      .join('');
  }
  return '';
}

function anthropicError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): FakeHandler {
  return json(status, { type: 'error', error: { type, message } }, headers);
}

/** Deterministic answer words; a request with tools whose prompt mentions weather gets a tool call instead. */
function plan(body: MessagesBody): {
  words: string[];
  tool: { name: string; input: Record<string, unknown> } | undefined;
} {
  const prompt = lastUserText(body);
  const toolName = typeof body.tools?.[0]?.name === 'string' ? body.tools[0].name : undefined;
  if (toolName !== undefined && /weather/i.test(prompt)) {
    return { words: [], tool: { name: toolName, input: { city: 'Paris', unit: 'celsius' } } };
  }
  return {
    words: ['Hello', ' from', ' the', ' fake', ' Anthropic', ' upstream.', ` You said: ${prompt}`],
    tool: undefined,
  };
}

const USAGE = { input_tokens: 11, cache_creation_input_tokens: 2, cache_read_input_tokens: 3 };

/** Anthropic's `message_start` frame: a message `id` of `model` begins, with the prompt's counts in `usage`. */
export function anthropicMessageStartFrame(
  id: string,
  model: string,
  usage: Readonly<Record<string, unknown>>,
): string {
  return encodeSseEvent('message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });
}

/** The frame that starts a text block at `index` (0 unless said). */
export function anthropicTextBlockStartFrame(index = 0): string {
  return encodeSseEvent('content_block_start', {
    type: 'content_block_start',
    index,
    content_block: { type: 'text', text: '' },
  });
}

/** One `text_delta` of the text block at `index` (0 unless said). */
export function anthropicTextDeltaFrame(text: string, index = 0): string {
  return encodeSseEvent('content_block_delta', {
    type: 'content_block_delta',
    index,
    delta: { type: 'text_delta', text },
  });
}

function streamFrames(model: string, words: string[], tool: ReturnType<typeof plan>['tool']): string[] {
  const frames = [
    anthropicMessageStartFrame('msg_fake01', model, { ...USAGE, output_tokens: 1 }),
    encodeSseEvent('ping', { type: 'ping' }),
  ];
  if (tool === undefined) {
    frames.push(anthropicTextBlockStartFrame(), ...words.map((word) => anthropicTextDeltaFrame(word)));
  } else {
    const input = JSON.stringify(tool.input);
    frames.push(
      encodeSseEvent('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_fake01', name: tool.name, input: {} },
      }),
      encodeSseEvent('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: input.slice(0, 9) },
      }),
      encodeSseEvent('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: input.slice(9) },
      }),
    );
  }
  frames.push(
    encodeSseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    encodeSseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: tool === undefined ? 'end_turn' : 'tool_use', stop_sequence: null },
      usage: { output_tokens: Math.max(1, words.length) },
    }),
    encodeSseEvent('message_stop', { type: 'message_stop' }),
  );
  return frames;
}

const OAUTH_TOKEN_PREFIX = 'sk-ant-oat';

/**
 * What api.anthropic.com accepts: an API key as `x-api-key` or `Authorization: Bearer`; an OAuth token only as
 * `Authorization: Bearer`, and only with an `oauth-…` beta.
 */
function credentialOk(request: RecordedRequest): boolean {
  const apiKey = String(request.headers['x-api-key'] ?? '');
  if (apiKey !== '') {
    return apiKey.startsWith('sk-ant-') && !apiKey.startsWith(OAUTH_TOKEN_PREFIX);
  }
  const bearer = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))?.[1] ?? '';
  if (bearer.startsWith(OAUTH_TOKEN_PREFIX)) {
    return String(request.headers['anthropic-beta'] ?? '').includes('oauth-');
  }
  return bearer.startsWith('sk-ant-');
}

/** The fake's `POST /v1/messages`, exported so a test can restore it after overriding. */
export const fakeAnthropicMessages: FakeHandler = (request, response) => {
  if (!credentialOk(request)) {
    return anthropicError(401, 'authentication_error', 'invalid x-api-key')(request, response);
  }
  const body = parse(request);
  if (body === undefined || !Array.isArray(body.messages) || typeof body.model !== 'string') {
    return anthropicError(400, 'invalid_request_error', 'messages: Field required')(request, response);
  }
  const { words, tool } = plan(body);
  if (body.stream === true) {
    return sse({ frames: streamFrames(body.model, words, tool), intervalMs: 5 })(request, response);
  }
  const content =
    tool === undefined
      ? [{ type: 'text', text: words.join('') }]
      : [{ type: 'tool_use', id: 'toolu_fake01', name: tool.name, input: tool.input }];
  return json(200, {
    id: 'msg_fake01',
    type: 'message',
    role: 'assistant',
    model: body.model,
    content,
    stop_reason: tool === undefined ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage: { ...USAGE, output_tokens: Math.max(1, words.length) },
  })(request, response);
};

/** A fake api.anthropic.com: Messages (streamed and not, with a tool call for weather prompts) and models. */
export async function startFakeAnthropic(): Promise<FakeUpstream> {
  const fake = await FakeUpstream.start();
  return fake.on('POST', '/v1/messages', fakeAnthropicMessages).on('GET', '/v1/models', (request, response) =>
    credentialOk(request)
      ? json(200, {
          data: FAKE_ANTHROPIC_MODELS.map((id) => ({
            type: 'model',
            id,
            display_name: id,
            created_at: '2025-09-29T00:00:00Z',
          })),
          has_more: false,
        })(request, response)
      : anthropicError(401, 'authentication_error', 'invalid x-api-key')(request, response),
  );
}

export { anthropicError };
