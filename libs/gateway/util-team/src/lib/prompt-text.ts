import { z } from 'zod';
import type { WireDialect } from './usage-meter';

/** What a request's prompt is made of: its texts, the token ids it gives as such (token arrays), its messages. */
export interface PromptParts {
  texts: readonly string[];
  tokenIds: number;
  messages: number;
}

/** How deep the text of nested content (a tool result's blocks) is looked for. */
const MAX_CONTENT_DEPTH = 4;
const NO_PARTS: PromptParts = { texts: [], tokenIds: 0, messages: 0 };

/** The parts together, in order (one pass: an input of many items must not cost their square). */
function joined(parts: readonly PromptParts[]): PromptParts {
  const texts: string[] = [];
  let tokenIds = 0;
  let messages = 0;
  for (const part of parts) {
    for (const text of part.texts) {
      texts.push(text);
    }
    tokenIds += part.tokenIds;
    messages += part.messages;
  }
  return { texts, tokenIds, messages };
}

const textPart = z.looseObject({ text: z.string() });
const tokenArray = z.array(z.number());
/** A message's content: OpenAI's and Anthropic's `content`, Gemini's `parts`. */
const messageContent = z.looseObject({ content: z.unknown().optional() }).transform((message) => message.content);
const geminiContent = z.looseObject({ parts: z.unknown().optional() }).transform((content) => content.parts);

/** The text of a content value: a string, or parts with `text`, or parts that hold `content` (looked into). */
function contentTexts(content: unknown, depth = 0): string[] {
  if (typeof content === 'string') {
    return [content];
  }
  if (!Array.isArray(content) || depth >= MAX_CONTENT_DEPTH) {
    return [];
  }
  return content.flatMap((part: unknown): string[] => {
    if (typeof part === 'string') {
      return [part];
    }
    const text = textPart.safeParse(part);
    if (text.success) {
      return [text.data.text];
    }
    const nested = messageContent.safeParse(part);
    return nested.success ? contentTexts(nested.data, depth + 1) : [];
  });
}

/** A list of messages, each read by `content` for its content. */
function messageParts(list: unknown, content: z.ZodType<unknown>): PromptParts {
  const items: readonly unknown[] = Array.isArray(list) ? list : [];
  const messages = items.flatMap((item) => {
    const parsed = content.safeParse(item);
    return parsed.success ? [contentTexts(parsed.data)] : [];
  });
  return { texts: messages.flat(), tokenIds: 0, messages: messages.length };
}

/** Embeddings' and the Responses API's `input`: a text, texts, token arrays, or message items. */
function inputParts(input: unknown): PromptParts {
  const whole = tokenArray.safeParse(input);
  const items: readonly unknown[] = whole.success || !Array.isArray(input) ? [input] : input;
  return joined(
    items.map((item): PromptParts => {
      const ids = tokenArray.safeParse(item);
      if (ids.success) {
        return { texts: [], tokenIds: ids.data.length, messages: 0 };
      }
      return typeof item === 'string'
        ? { texts: [item], tokenIds: 0, messages: 0 }
        : messageParts([item], messageContent);
    }),
  );
}

const openAiPrompt = z.looseObject({
  messages: z.unknown().optional(),
  input: z.unknown().optional(),
  instructions: z.string().optional().catch(undefined),
});
const anthropicPrompt = z.looseObject({ system: z.unknown().optional(), messages: z.unknown().optional() });
const geminiPrompt = z.looseObject({
  contents: z.unknown().optional(),
  systemInstruction: z.unknown().optional(),
  system_instruction: z.unknown().optional(),
});

/** A Gemini system instruction: a content with parts, or a text. */
function geminiSystemTexts(instruction: unknown): string[] {
  const parts = geminiContent.safeParse(instruction);
  return parts.success ? contentTexts(parts.data) : contentTexts(instruction);
}

/**
 * What a request's prompt is made of, by its dialect: OpenAI's `messages[].content` (strings and text parts), the
 * `input` of embeddings and of the Responses API (with its `instructions`); Anthropic's `system` and `messages`;
 * Gemini's `systemInstruction` and `contents[].parts[].text`. Images, audio and tool definitions are not counted;
 * a body of another shape has no parts.
 */
export function promptParts(dialect: WireDialect, body: unknown): PromptParts {
  switch (dialect) {
    case 'openai': {
      const parsed = openAiPrompt.safeParse(body);
      if (!parsed.success) {
        return NO_PARTS;
      }
      const { instructions, messages, input } = parsed.data;
      return joined([
        { texts: instructions === undefined ? [] : [instructions], tokenIds: 0, messages: 0 },
        messageParts(messages, messageContent),
        input === undefined ? NO_PARTS : inputParts(input),
      ]);
    }
    case 'anthropic': {
      const parsed = anthropicPrompt.safeParse(body);
      return parsed.success
        ? joined([
            { ...NO_PARTS, texts: contentTexts(parsed.data.system) },
            messageParts(parsed.data.messages, messageContent),
          ])
        : NO_PARTS;
    }
    case 'gemini': {
      const parsed = geminiPrompt.safeParse(body);
      if (!parsed.success) {
        return NO_PARTS;
      }
      const system = parsed.data.systemInstruction ?? parsed.data.system_instruction;
      return joined([
        { ...NO_PARTS, texts: geminiSystemTexts(system) },
        messageParts(parsed.data.contents, geminiContent),
      ]);
    }
  }
}

/** The text of a request's prompt (see `promptParts`), joined by newlines. */
export function promptText(dialect: WireDialect, body: unknown): string {
  return promptParts(dialect, body).texts.join('\n');
}
