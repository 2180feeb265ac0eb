import type { ChatCompletionRequest, ChatContentPart, ChatMessage } from '@openai-proxy/util-openai-schema';
import { ErrorCode } from './error-code';
import { GatewayException } from './gateway.exception';

/** A 400 `invalid_request_error` naming the field at fault. */
export function invalidParam(message: string, param: string): GatewayException {
  return new GatewayException(ErrorCode.InvalidRequest, message, { param });
}

/** A message's text: a string, or its text parts joined by newlines; any other part type is a 400 naming it. */
export function requireTextContent(content: ChatMessage['content'], param: string): string {
  if (content === undefined || content === null) {
    return '';
  }
  if (typeof content === 'string') {
    return content;
  }
  return content
    .map((part, index) => {
      if (part.type !== 'text' || typeof part['text'] !== 'string') {
        throw invalidParam(`Only text parts are allowed here, found ${part.type}`, `${param}[${index}].type`);
      }
      return part['text'];
    })
    .join('\n');
}

/** OpenAI request fields a provider may have no equivalent for, and when a value actually asks for them. */
const FIELD_IS_USED = {
  n: (request: ChatCompletionRequest) => typeof request.n === 'number' && request.n > 1,
  logprobs: (request: ChatCompletionRequest) => request['logprobs'] === true,
  top_logprobs: (request: ChatCompletionRequest) =>
    request['top_logprobs'] !== undefined && request['top_logprobs'] !== null,
  logit_bias: (request: ChatCompletionRequest) => {
    const bias = request['logit_bias'];
    return typeof bias === 'object' && bias !== null && Object.keys(bias).length > 0;
  },
  presence_penalty: (request: ChatCompletionRequest) =>
    typeof request['presence_penalty'] === 'number' && request['presence_penalty'] !== 0,
  frequency_penalty: (request: ChatCompletionRequest) =>
    typeof request['frequency_penalty'] === 'number' && request['frequency_penalty'] !== 0,
  seed: (request: ChatCompletionRequest) => request['seed'] !== undefined && request['seed'] !== null,
  response_format: (request: ChatCompletionRequest) =>
    request.response_format !== undefined && !['text', 'json_object'].includes(request.response_format.type),
} as const;

export type UnsupportedField = keyof typeof FIELD_IS_USED;

/** Refuses, with a 400 naming it, the first listed field the request actually uses: never dropped silently. */
export function rejectUnsupportedFields(
  request: ChatCompletionRequest,
  fields: readonly UnsupportedField[],
  bridge: string,
): void {
  const found = fields.find((field) => FIELD_IS_USED[field](request));
  if (found !== undefined) {
    throw invalidParam(`${found} is not supported by the ${bridge} bridge`, found);
  }
}

/** Whether a request has tools to call: a `tools` list with at least one entry. */
export function hasTools(request: ChatCompletionRequest): boolean {
  return request.tools !== undefined && request.tools.length > 0;
}

/**
 * A provider takes a tool choice only beside tools (Anthropic and Gemini both refuse one alone): in a request
 * without tools, a choice that demands a call (`required`, a named function) is a 400 naming `tool_choice`; one
 * that asks for nothing (`auto`, `none`) is left out by the caller.
 */
export function refuseToolChoiceWithoutTools(request: ChatCompletionRequest): void {
  if (!hasTools(request) && (request.tool_choice === 'required' || typeof request.tool_choice === 'object')) {
    throw invalidParam('tool_choice requires tools', 'tool_choice');
  }
}

/**
 * A tool call's `arguments` (a JSON text, `''` counting as `{}`) as the object a provider takes for them: a JSON
 * value that is not an object is wrapped as `{value}`; text that is not JSON is a 400 naming `param`.
 */
export function toolCallArguments(text: string, param: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text || '{}') as unknown;
  } catch {
    throw invalidParam('Tool call arguments must be valid JSON', param);
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}

/** A text part with no text: left out of a provider's request, as empty string content is (providers refuse it). */
export function isEmptyText(part: ChatContentPart): boolean {
  return part.type === 'text' && part['text'] === '';
}
