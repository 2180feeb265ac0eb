import fc from 'fast-check';
import { z } from 'zod';
import { type PromptParts, promptParts, promptText } from './prompt-text';
import type { WireDialect } from './usage-meter';

/* The readers as written with zod, which the plain type checks of prompt-text.ts must agree with on any body. */

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
function promptPartsBySchema(dialect: WireDialect, body: unknown): PromptParts {
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

describe('promptText', () => {
  it('should read OpenAI messages: string content and text parts, not images', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [] },
      ],
    };
    expect(promptText('openai', body)).toBe('Be brief.\nWhat is this?');
    expect(promptParts('openai', body).messages).toBe(3);
  });

  it('should read embeddings input: a text, texts, and token arrays by their length', () => {
    expect(promptParts('openai', { input: 'one' })).toEqual({ texts: ['one'], tokenIds: 0, messages: 0 });
    expect(promptParts('openai', { input: ['a', 'b'] })).toEqual({ texts: ['a', 'b'], tokenIds: 0, messages: 0 });
    expect(promptParts('openai', { input: [1, 2, 3] })).toEqual({ texts: [], tokenIds: 3, messages: 0 });
    expect(promptParts('openai', { input: [[1, 2], [3]] })).toEqual({ texts: [], tokenIds: 3, messages: 0 });
  });

  it('should read the Responses API: instructions and input items', () => {
    const body = {
      instructions: 'You are Codex.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'fix it' }] }],
    };
    expect(promptText('openai', body)).toBe('You are Codex.\nfix it');
    expect(promptParts('openai', body).messages).toBe(1);
  });

  it("should read Anthropic's system and messages, tool results included", () => {
    const body = {
      system: [{ type: 'text', text: 'Sys' }],
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'ok' }] }] },
      ],
    };
    expect(promptText('anthropic', body)).toBe('Sys\nHi\nok');
    expect(promptText('anthropic', { system: 'plain', messages: [] })).toBe('plain');
  });

  it("should read Gemini's contents and system instruction, in either spelling", () => {
    const contents = [{ role: 'user', parts: [{ text: 'Q' }, { inlineData: { mimeType: 'x', data: '' } }] }];
    expect(promptText('gemini', { systemInstruction: { parts: [{ text: 'S' }] }, contents })).toBe('S\nQ');
    expect(promptText('gemini', { system_instruction: { parts: [{ text: 'S' }] }, contents })).toBe('S\nQ');
    expect(promptParts('gemini', { contents }).messages).toBe(1);
  });

  it('should find nothing in bodies of another shape, and never throw', () => {
    const dialect = fc.constantFrom<WireDialect>('openai', 'anthropic', 'gemini');
    expect(promptParts('openai', 'text')).toEqual({ texts: [], tokenIds: 0, messages: 0 });
    fc.assert(
      fc.property(dialect, fc.jsonValue(), fc.jsonValue(), (wire, value, inner) => {
        for (const body of [value, { messages: value, input: inner }, { contents: value, system: inner }]) {
          const parts = promptParts(wire, body);
          expect(parts.texts.every((text) => typeof text === 'string')).toBe(true);
          expect(parts.tokenIds).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('promptParts against its zod definition', () => {
  it('should find the same parts as the zod readers, for any body', () => {
    const leaf = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.integer({ min: -2, max: 9 }),
      fc.constantFrom(null, 1.5, Infinity, NaN, true),
      fc.constant([1, 2]),
    );
    const content = fc.letrec<{ content: unknown }>((tie) => ({
      content: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(
          fc.oneof(
            leaf,
            fc.record({ type: fc.constant('text'), text: leaf }, { requiredKeys: [] }),
            fc.record({ type: fc.constant('tool_result'), content: tie('content') }, { requiredKeys: [] }),
            fc.record({ parts: tie('content'), text: leaf }, { requiredKeys: [] }),
          ),
          { maxLength: 3 },
        ),
      ),
    })).content;
    // Content nested in tool results up to past the depth that is looked into.
    const deep = fc
      .tuple(fc.nat({ max: 6 }), fc.string({ maxLength: 3 }))
      .map(([depth, text]) =>
        Array.from({ length: depth }).reduce<unknown>((inner) => [{ type: 'tool_result', content: inner }], [text]),
      );
    const message = fc.oneof(
      fc.record({ role: fc.constant('user'), content: fc.oneof(content, deep), parts: content }, { requiredKeys: [] }),
      leaf,
      content,
    );
    const messages = fc.oneof(fc.array(message, { maxLength: 4 }), leaf);
    const body = fc.oneof(
      fc.record(
        {
          messages,
          input: fc.oneof(
            messages,
            content,
            fc.array(fc.oneof(fc.array(fc.integer()), leaf, message), { maxLength: 3 }),
          ),
          instructions: leaf,
          system: fc.oneof(content, leaf),
          contents: messages,
          systemInstruction: fc.oneof(message, content),
          system_instruction: fc.oneof(message, content),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    const dialect = fc.constantFrom<WireDialect>('openai', 'anthropic', 'gemini');
    fc.assert(
      fc.property(dialect, body, (wire, given) => {
        expect(promptParts(wire, given)).toStrictEqual(promptPartsBySchema(wire, given));
      }),
      { numRuns: 2000 },
    );
  });
});
