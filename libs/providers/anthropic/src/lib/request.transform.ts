import {
  type ChatCompletionRequest,
  type ChatContentPart,
  type ChatMessage,
  type ChatToolChoice,
  parseDataUrl,
} from '@openai-proxy/util-openai-schema';
import {
  hasTools,
  invalidParam,
  isEmptyText,
  refuseToolChoiceWithoutTools,
  rejectUnsupportedFields,
  requireTextContent,
  toolCallArguments,
} from '@openai-proxy/util-errors';
import type {
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicToolChoice,
} from './anthropic.types';

export interface AnthropicRequestOptions {
  /** `max_tokens` when the request sets neither `max_completion_tokens` nor `max_tokens`. */
  defaultMaxTokens: number;
}

/** The result: the Anthropic body, and notes for the client (sent as a response header). */
export interface AnthropicRequestTranslation {
  body: AnthropicMessagesRequest;
  notes: string[];
}

const JSON_OBJECT_INSTRUCTION = 'Respond with a single valid JSON object and nothing else.';

const invalid = invalidParam;

/** Parameters Anthropic has no equivalent for: refused by name, never dropped silently. */
function rejectUnsupported(request: ChatCompletionRequest): void {
  rejectUnsupportedFields(
    request,
    ['n', 'logprobs', 'top_logprobs', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'seed', 'response_format'],
    'Anthropic API',
  );
}

const plainText = requireTextContent;

function contentBlock(part: ChatContentPart, param: string): AnthropicRequestBlock {
  if (part.type === 'text' && typeof part['text'] === 'string') {
    return { type: 'text', text: part['text'] };
  }
  if (part.type === 'image_url') {
    const image = part['image_url'] as { url?: unknown } | undefined;
    const url = typeof image?.url === 'string' ? image.url : '';
    const data = parseDataUrl(url);
    if (data !== undefined) {
      return { type: 'image', source: { type: 'base64', media_type: data.mimeType, data: data.data } };
    }
    if (/^https?:\/\//.test(url)) {
      return { type: 'image', source: { type: 'url', url } };
    }
    throw invalid('image_url.url must be a data: URL or an http(s) URL', `${param}.image_url.url`);
  }
  throw invalid(`Content part type ${part.type} is not supported`, `${param}.type`);
}

function contentBlocks(content: ChatMessage['content'], param: string): AnthropicRequestBlock[] {
  if (content === undefined || content === null) {
    return [];
  }
  if (typeof content === 'string') {
    return content === '' ? [] : [{ type: 'text', text: content }];
  }
  // An empty text part is left out, as empty string content is (Anthropic refuses empty text blocks).
  return content.flatMap((part, index) => (isEmptyText(part) ? [] : [contentBlock(part, `${param}[${index}]`)]));
}

function assistantBlocks(message: ChatMessage, param: string): AnthropicRequestBlock[] {
  const blocks = contentBlocks(message.content, `${param}.content`);
  (message.tool_calls ?? []).forEach((call, index) => {
    const input = toolCallArguments(call.function.arguments, `${param}.tool_calls[${index}].function.arguments`);
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input });
  });
  return blocks;
}

/**
 * A tool's `parameters` as Anthropic's `input_schema`, which must name `type` (OpenAI takes `{}` for a tool
 * without arguments): `type: "object"` and `properties: {}` filled in where the schema leaves them out.
 */
function inputSchema(parameters: Record<string, unknown> | undefined): Record<string, unknown> {
  return { type: 'object', properties: {}, ...parameters };
}

/** One Anthropic turn per OpenAI message (before merging); system/developer messages go to `system`. */
function toTurn(message: ChatMessage, index: number): AnthropicMessage | undefined {
  const param = `messages[${index}]`;
  switch (message.role) {
    case 'system':
    case 'developer':
      return undefined;
    case 'user':
      return { role: 'user', content: contentBlocks(message.content, `${param}.content`) };
    case 'assistant':
      return { role: 'assistant', content: assistantBlocks(message, param) };
    case 'tool':
      if (typeof message.tool_call_id !== 'string') {
        throw invalid('A tool message needs tool_call_id', `${param}.tool_call_id`);
      }
      return {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: message.tool_call_id,
            content: plainText(message.content, `${param}.content`),
          },
        ],
      };
    default:
      throw invalid(`Unknown role ${String((message as { role: unknown }).role)}`, `${param}.role`);
  }
}

/** Consecutive turns of the same role become one turn with all their blocks (Anthropic alternates roles). */
function mergeTurns(turns: AnthropicMessage[]): AnthropicMessage[] {
  const merged: AnthropicMessage[] = [];
  // An empty turn is left out first, so the turns on either side of it merge when they share a role.
  for (const turn of turns.filter((candidate) => candidate.content.length > 0)) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && previous.role === turn.role) {
      previous.content.push(...turn.content);
    } else {
      merged.push({ role: turn.role, content: [...turn.content] });
    }
  }
  return merged;
}

function toToolChoice(
  choice: ChatToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) {
    return parallel === false ? { type: 'auto', ...disable } : undefined;
  }
  if (choice === 'auto') {
    return { type: 'auto', ...disable };
  }
  if (choice === 'required') {
    return { type: 'any', ...disable };
  }
  if (choice === 'none') {
    return { type: 'none' };
  }
  return { type: 'tool', name: choice.function.name, ...disable };
}

/**
 * Anthropic accepts `tool_choice` only beside `tools`. Without tools, a choice that asks for nothing
 * (`auto`, `none`, or only `parallel_tool_calls: false`) is left out; one that demands a call is a 400.
 */
function toolChoiceFor(request: ChatCompletionRequest): AnthropicToolChoice | undefined {
  refuseToolChoiceWithoutTools(request);
  return hasTools(request) ? toToolChoice(request.tool_choice, request.parallel_tool_calls) : undefined;
}

function systemPrompt(messages: ChatMessage[], jsonObject: boolean): string | undefined {
  const parts = messages.flatMap((message, index) =>
    message.role === 'system' || message.role === 'developer'
      ? [plainText(message.content, `messages[${index}].content`)]
      : [],
  );
  if (jsonObject) {
    parts.push(JSON_OBJECT_INSTRUCTION);
  }
  const text = parts.filter((part) => part !== '').join('\n\n');
  return text === '' ? undefined : text;
}

/** OpenAI chat request → Anthropic Messages request (docs/provider-mapping.md). */
export function toAnthropicRequest(
  request: ChatCompletionRequest,
  options: AnthropicRequestOptions,
): AnthropicRequestTranslation {
  rejectUnsupported(request);
  const jsonObject = request.response_format?.type === 'json_object';
  const messages = mergeTurns(request.messages.flatMap((message, index) => toTurn(message, index) ?? []));
  if (messages.length === 0) {
    throw invalid('messages must contain at least one user or assistant message', 'messages');
  }
  const body: AnthropicMessagesRequest = {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? options.defaultMaxTokens,
    messages,
  };
  const system = systemPrompt(request.messages, jsonObject);
  if (system !== undefined) {
    body.system = system;
  }
  if (typeof request.temperature === 'number') {
    body.temperature = Math.min(1, Math.max(0, request.temperature));
  }
  // Claude's newer models refuse temperature and top_p together: beside a temperature, top_p is left out (noted).
  const topPDropped = typeof request.top_p === 'number' && body.temperature !== undefined;
  if (typeof request.top_p === 'number' && !topPDropped) {
    body.top_p = request.top_p;
  }
  if (request.stop !== undefined && request.stop !== null) {
    body.stop_sequences = Array.isArray(request.stop) ? request.stop : [request.stop];
  }
  if (request.stream === true) {
    body.stream = true;
  }
  if (request.tools !== undefined && hasTools(request)) {
    body.tools = request.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
      input_schema: inputSchema(tool.function.parameters),
    }));
  }
  const toolChoice = toolChoiceFor(request);
  if (toolChoice !== undefined) {
    body.tool_choice = toolChoice;
  }
  if (typeof request.user === 'string' && request.user !== '') {
    body.metadata = { user_id: request.user };
  }
  const notes: string[] = [];
  if (jsonObject) {
    notes.push('response_format json_object is emulated with a system instruction');
  }
  if (topPDropped) {
    notes.push('top_p is not sent beside temperature (Claude models take one of the two)');
  }
  return { body, notes };
}
