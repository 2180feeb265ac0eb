import { isRecord } from './usage-counts';
import type { WireDialect } from './usage-meter';

/**
 * What a request's prompt is made of: its texts (structured parts, such as tool calls and tool definitions, as
 * their JSON text), the token ids it gives as such (token arrays), its messages, and its media (images, audio,
 * files), whose bytes are never read as text.
 */
export interface PromptParts {
  texts: readonly string[];
  tokenIds: number;
  messages: number;
  media: number;
}

/** How deep the text of nested content (a tool result's blocks) is looked for. */
const MAX_CONTENT_DEPTH = 4;

/** The `type` of a content part that carries media: OpenAI's chat and Responses parts, Anthropic's blocks. */
export const MEDIA_PART_TYPES: ReadonlySet<string> = new Set([
  'image_url',
  'input_image',
  'input_audio',
  'input_file',
  'file',
  'image',
  'document',
]);
/** The fields of a Gemini part that carry media. */
export const MEDIA_PART_FIELDS: readonly string[] = ['inlineData', 'inline_data', 'fileData', 'file_data'];

/** The message fields, beside its content, that hold a structured part of the prompt (OpenAI's tool calls). */
const OPENAI_MESSAGE_STRUCTURED_FIELDS: readonly string[] = ['tool_calls', 'function_call'];

/**
 * The parts as they are found, in order: one list that every reader adds to (an input of many items must not
 * cost their square, nor a list per item). Every check is a plain type check on the parsed body, as a zod
 * `looseObject` would make it (prompt-text.spec.ts checks them against the schemas on any JSON).
 */
interface FoundParts {
  texts: string[];
  tokenIds: number;
  messages: number;
  media: number;
}

/** Whether a content part carries media: its `type` says so, or it holds Gemini's inline or file data. */
function isMediaPart(part: Readonly<Record<string, unknown>>): boolean {
  const type = part['type'];
  if (typeof type === 'string' && MEDIA_PART_TYPES.has(type)) {
    return true;
  }
  return MEDIA_PART_FIELDS.some((field) => part[field] !== undefined);
}

/**
 * Adds a structured value (a tool call, a tool's result as data, the tool definitions) as its JSON text, about
 * what a provider counts of it; nothing for a missing or null one.
 */
function addStructured(found: FoundParts, value: unknown): void {
  if (value !== undefined && value !== null) {
    found.texts.push(JSON.stringify(value));
  }
}

/** Whether a value is a token array: numbers only (finite, as zod's `number()` takes them). */
function isTokenArray(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.every((item: unknown) => typeof item === 'number' && Number.isFinite(item));
}

/**
 * Adds the text of a content value: a string, or parts: with `text`, media (counted), parts that hold `content`
 * (a tool result's, looked into), or any other (a tool call, Gemini's function calls and responses) as its JSON.
 */
function addContentTexts(found: FoundParts, content: unknown, depth = 0): void {
  if (typeof content === 'string') {
    found.texts.push(content);
    return;
  }
  if (!Array.isArray(content) || depth >= MAX_CONTENT_DEPTH) {
    return;
  }
  for (const part of content as readonly unknown[]) {
    if (typeof part === 'string') {
      found.texts.push(part);
    } else if (isRecord(part)) {
      const text = part['text'];
      if (typeof text === 'string') {
        found.texts.push(text);
      } else if (isMediaPart(part)) {
        found.media += 1;
      } else if (part['content'] !== undefined) {
        addContentTexts(found, part['content'], depth + 1);
      } else {
        addStructured(found, part);
      }
    }
  }
}

/**
 * Adds a list of messages, each an object whose `field` (`content`, Gemini's `parts`) holds its content, and whose
 * `structured` fields (OpenAI's `tool_calls`) hold more of it as data.
 */
function addMessages(
  found: FoundParts,
  list: unknown,
  field: 'content' | 'parts',
  structured: readonly string[] = [],
): void {
  if (!Array.isArray(list)) {
    return;
  }
  for (const item of list as readonly unknown[]) {
    if (isRecord(item)) {
      found.messages += 1;
      addContentTexts(found, item[field]);
      for (const name of structured) {
        addStructured(found, item[name]);
      }
    }
  }
}

/**
 * Adds embeddings' and the Responses API's `input`: a text, texts, token arrays, or items: a message's content,
 * or an item without one (a function call or its output) as its JSON.
 */
function addInput(found: FoundParts, input: unknown): void {
  const items: readonly unknown[] = isTokenArray(input) || !Array.isArray(input) ? [input] : input;
  for (const item of items) {
    if (isTokenArray(item)) {
      found.tokenIds += item.length;
    } else if (typeof item === 'string') {
      found.texts.push(item);
    } else if (isRecord(item)) {
      found.messages += 1;
      if (item['content'] !== undefined) {
        addContentTexts(found, item['content']);
      } else {
        addStructured(found, item);
      }
    }
  }
}

/** Adds a Gemini system instruction: a content with parts, or a text. */
function addGeminiSystem(found: FoundParts, instruction: unknown): void {
  addContentTexts(found, isRecord(instruction) ? instruction['parts'] : instruction);
}

/**
 * What a request's prompt is made of, by its dialect: OpenAI's `messages[].content` and tool calls, the `input` of
 * embeddings and of the Responses API (with its `instructions`), and its `tools` and `functions`; Anthropic's
 * `system`, `tools` and `messages`; Gemini's `systemInstruction`, `tools` and `contents[].parts`. Tool definitions
 * and calls count as their JSON text, media parts by number; a body of another shape has no parts.
 */
export function promptParts(dialect: WireDialect, body: unknown): PromptParts {
  const found: FoundParts = { texts: [], tokenIds: 0, messages: 0, media: 0 };
  if (!isRecord(body)) {
    return found;
  }
  switch (dialect) {
    case 'openai': {
      const instructions = body['instructions'];
      if (typeof instructions === 'string') {
        found.texts.push(instructions);
      }
      addStructured(found, body['tools']);
      addStructured(found, body['functions']);
      addMessages(found, body['messages'], 'content', OPENAI_MESSAGE_STRUCTURED_FIELDS);
      const input = body['input'];
      if (input !== undefined) {
        addInput(found, input);
      }
      return found;
    }
    case 'anthropic':
      addContentTexts(found, body['system']);
      addStructured(found, body['tools']);
      addMessages(found, body['messages'], 'content');
      return found;
    case 'gemini':
      addGeminiSystem(found, body['systemInstruction'] ?? body['system_instruction']);
      addStructured(found, body['tools']);
      addMessages(found, body['contents'], 'parts');
      return found;
  }
}

/** The text of a request's prompt (see `promptParts`), joined by newlines. */
export function promptText(dialect: WireDialect, body: unknown): string {
  return promptParts(dialect, body).texts.join('\n');
}
