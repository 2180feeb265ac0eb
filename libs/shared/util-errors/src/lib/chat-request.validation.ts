import type { ChatCompletionRequest, ChatMessage } from '@openai-proxy/util-openai-schema';
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
