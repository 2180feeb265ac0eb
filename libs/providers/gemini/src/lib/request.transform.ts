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
import type { GeminiContent, GeminiGenerationConfig, GeminiPart, GeminiRequest } from './gemini.types';
import { responseFormatConfig, toGeminiJsonSchema } from './json-schema.transform';
import { thoughtSignatureOf } from './thought-signature.transform';

const invalid = invalidParam;

/** Parameters Gemini has no equivalent for: refused by name, never dropped silently. */
function rejectUnsupported(request: ChatCompletionRequest): void {
  rejectUnsupportedFields(request, ['logprobs', 'top_logprobs', 'logit_bias'], 'Gemini API');
}

const textOf = requireTextContent;

function part(content: ChatContentPart, param: string): GeminiPart {
  if (content.type === 'text' && typeof content['text'] === 'string') {
    return { text: content['text'] };
  }
  if (content.type === 'image_url') {
    const url = (content['image_url'] as { url?: unknown } | undefined)?.url;
    const data = typeof url === 'string' ? parseDataUrl(url) : undefined;
    if (data === undefined) {
      throw invalid('Gemini takes images as data: URLs (base64)', `${param}.image_url.url`);
    }
    return { inlineData: { mimeType: data.mimeType, data: data.data } };
  }
  throw invalid(`Content part type ${content.type} is not supported`, `${param}.type`);
}

function parts(content: ChatMessage['content'], param: string): GeminiPart[] {
  if (content === undefined || content === null) {
    return [];
  }
  if (typeof content === 'string') {
    return content === '' ? [] : [{ text: content }];
  }
  // An empty text part is left out, as empty string content is (the API refuses empty parts).
  return content.flatMap((item, index) => (isEmptyText(item) ? [] : [part(item, `${param}[${index}]`)]));
}

/** A tool message's result: its JSON object when it is one, else `{content: text}`. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { content: value };
  } catch {
    return { content: text };
  }
}

function toContents(messages: readonly ChatMessage[]): GeminiContent[] {
  const toolNames = new Map<string, string>();
  const contents: GeminiContent[] = [];
  messages.forEach((message, index) => {
    const param = `messages[${index}]`;
    let content: GeminiContent | undefined;
    if (message.role === 'user') {
      content = { role: 'user', parts: parts(message.content, `${param}.content`) };
    } else if (message.role === 'assistant') {
      const calls = (message.tool_calls ?? []).map((call, callIndex) => {
        toolNames.set(call.id, call.function.name);
        const signature = thoughtSignatureOf(call.id);
        return {
          functionCall: {
            name: call.function.name,
            args: toolCallArguments(call.function.arguments, `${param}.tool_calls[${callIndex}].function.arguments`),
          },
          ...(signature === undefined ? {} : { thoughtSignature: signature }),
        };
      });
      content = { role: 'model', parts: [...parts(message.content, `${param}.content`), ...calls] };
    } else if (message.role === 'tool') {
      const name = toolNames.get(message.tool_call_id ?? '');
      if (name === undefined) {
        throw invalid('A tool message must answer an earlier tool call (tool_call_id)', `${param}.tool_call_id`);
      }
      content = {
        role: 'user',
        parts: [{ functionResponse: { name, response: toolResponse(textOf(message.content, `${param}.content`)) } }],
      };
    }
    if (content === undefined || content.parts.length === 0) {
      return;
    }
    const previous = contents[contents.length - 1];
    if (previous !== undefined && previous.role === content.role) {
      previous.parts.push(...content.parts);
    } else {
      contents.push(content);
    }
  });
  return contents;
}

function toolConfig(choice: ChatToolChoice | undefined): GeminiRequest['toolConfig'] {
  if (choice === undefined || choice === 'auto') {
    return choice === undefined ? undefined : { functionCallingConfig: { mode: 'AUTO' } };
  }
  if (choice === 'none') {
    return { functionCallingConfig: { mode: 'NONE' } };
  }
  if (choice === 'required') {
    return { functionCallingConfig: { mode: 'ANY' } };
  }
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

function generationConfig(request: ChatCompletionRequest): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  if (typeof maxTokens === 'number') config.maxOutputTokens = maxTokens;
  if (request.stop !== undefined && request.stop !== null)
    config.stopSequences = Array.isArray(request.stop) ? request.stop : [request.stop];
  if (typeof request.n === 'number' && request.n > 1) config.candidateCount = request.n;
  Object.assign(config, responseFormatConfig(request));
  if (typeof request['presence_penalty'] === 'number') config.presencePenalty = request['presence_penalty'];
  if (typeof request['frequency_penalty'] === 'number') config.frequencyPenalty = request['frequency_penalty'];
  if (typeof request['seed'] === 'number') config.seed = request['seed'];
  return Object.keys(config).length === 0 ? undefined : config;
}

/** Gemini takes the model in the path, with or without its `models/` prefix. */
export function geminiModelName(model: string): string {
  return model.replace(/^models\//, '');
}

/** OpenAI chat request → Gemini generateContent request (docs/provider-mapping.md). */
export function toGeminiRequest(request: ChatCompletionRequest): GeminiRequest {
  rejectUnsupported(request);
  const contents = toContents(request.messages);
  if (contents.length === 0) {
    throw invalid('messages must contain at least one user or assistant message', 'messages');
  }
  const body: GeminiRequest = { contents };
  const system = request.messages
    .flatMap((message, index) =>
      message.role === 'system' || message.role === 'developer'
        ? [textOf(message.content, `messages[${index}].content`)]
        : [],
    )
    .filter((text) => text !== '')
    .join('\n\n');
  if (system !== '') body.systemInstruction = { parts: [{ text: system }] };
  const config = generationConfig(request);
  if (config !== undefined) body.generationConfig = config;
  if (request.tools !== undefined && hasTools(request)) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((tool) => ({
          name: tool.function.name,
          ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
          ...(tool.function.parameters === undefined
            ? {}
            : { parametersJsonSchema: toGeminiJsonSchema(tool.function.parameters) }),
        })),
      },
    ];
  }
  // Gemini refuses a function-calling config without function declarations (400 INVALID_ARGUMENT).
  refuseToolChoiceWithoutTools(request);
  const calling = body.tools === undefined ? undefined : toolConfig(request.tool_choice);
  if (calling !== undefined) body.toolConfig = calling;
  return body;
}
