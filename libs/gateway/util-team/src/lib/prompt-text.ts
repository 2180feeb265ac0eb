import { isRecord } from './usage-counts';
import type { WireDialect } from './usage-meter';

/** What a request's prompt is made of: its texts, the token ids it gives as such (token arrays), its messages. */
export interface PromptParts {
  texts: readonly string[];
  tokenIds: number;
  messages: number;
}

/** How deep the text of nested content (a tool result's blocks) is looked for. */
const MAX_CONTENT_DEPTH = 4;

/**
 * The parts as they are found, in order: one list that every reader adds to (an input of many items must not
 * cost their square, nor a list per item). Every check is a plain type check on the parsed body, as a zod
 * `looseObject` would make it (prompt-text.spec.ts checks them against the schemas on any JSON).
 */
interface FoundParts {
  texts: string[];
  tokenIds: number;
  messages: number;
}

/** Whether a value is a token array: numbers only (finite, as zod's `number()` takes them). */
function isTokenArray(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.every((item: unknown) => typeof item === 'number' && Number.isFinite(item));
}

/** Adds the text of a content value: a string, or parts with `text`, or parts that hold `content` (looked into). */
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
      } else {
        addContentTexts(found, part['content'], depth + 1);
      }
    }
  }
}

/** Adds a list of messages, each an object whose `field` (`content`, Gemini's `parts`) holds its content. */
function addMessages(found: FoundParts, list: unknown, field: 'content' | 'parts'): void {
  if (!Array.isArray(list)) {
    return;
  }
  for (const item of list as readonly unknown[]) {
    if (isRecord(item)) {
      found.messages += 1;
      addContentTexts(found, item[field]);
    }
  }
}

/** Adds embeddings' and the Responses API's `input`: a text, texts, token arrays, or message items. */
function addInput(found: FoundParts, input: unknown): void {
  const items: readonly unknown[] = isTokenArray(input) || !Array.isArray(input) ? [input] : input;
  for (const item of items) {
    if (isTokenArray(item)) {
      found.tokenIds += item.length;
    } else if (typeof item === 'string') {
      found.texts.push(item);
    } else if (isRecord(item)) {
      found.messages += 1;
      addContentTexts(found, item['content']);
    }
  }
}

/** Adds a Gemini system instruction: a content with parts, or a text. */
function addGeminiSystem(found: FoundParts, instruction: unknown): void {
  addContentTexts(found, isRecord(instruction) ? instruction['parts'] : instruction);
}

/**
 * What a request's prompt is made of, by its dialect: OpenAI's `messages[].content` (strings and text parts), the
 * `input` of embeddings and of the Responses API (with its `instructions`); Anthropic's `system` and `messages`;
 * Gemini's `systemInstruction` and `contents[].parts[].text`. Images, audio and tool definitions are not counted;
 * a body of another shape has no parts.
 */
export function promptParts(dialect: WireDialect, body: unknown): PromptParts {
  const found: FoundParts = { texts: [], tokenIds: 0, messages: 0 };
  if (!isRecord(body)) {
    return found;
  }
  switch (dialect) {
    case 'openai': {
      const instructions = body['instructions'];
      if (typeof instructions === 'string') {
        found.texts.push(instructions);
      }
      addMessages(found, body['messages'], 'content');
      const input = body['input'];
      if (input !== undefined) {
        addInput(found, input);
      }
      return found;
    }
    case 'anthropic':
      addContentTexts(found, body['system']);
      addMessages(found, body['messages'], 'content');
      return found;
    case 'gemini':
      addGeminiSystem(found, body['systemInstruction'] ?? body['system_instruction']);
      addMessages(found, body['contents'], 'parts');
      return found;
  }
}

/** The text of a request's prompt (see `promptParts`), joined by newlines. */
export function promptText(dialect: WireDialect, body: unknown): string {
  return promptParts(dialect, body).texts.join('\n');
}
