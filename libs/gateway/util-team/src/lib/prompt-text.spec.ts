import fc from 'fast-check';
import { z } from 'zod';
import { MEDIA_PART_FIELDS, MEDIA_PART_TYPES, type PromptParts, promptParts, promptText } from './prompt-text';
import type { WireDialect } from './usage-meter';

/* The readers as written with zod, which the plain type checks of prompt-text.ts must agree with on any body. */

/** How deep the text of nested content (a tool result's blocks) is looked for. */
const MAX_CONTENT_DEPTH = 4;
const NO_PARTS: PromptParts = { texts: [], tokenIds: 0, messages: 0, media: 0 };

/** The parts together, in order (one pass: an input of many items must not cost their square). */
function joined(parts: readonly PromptParts[]): PromptParts {
  const texts: string[] = [];
  let tokenIds = 0;
  let messages = 0;
  let media = 0;
  for (const part of parts) {
    for (const text of part.texts) {
      texts.push(text);
    }
    tokenIds += part.tokenIds;
    messages += part.messages;
    media += part.media;
  }
  return { texts, tokenIds, messages, media };
}

/** Texts only. */
function textsOnly(texts: readonly string[]): PromptParts {
  return { ...NO_PARTS, texts };
}

/** A structured value as its JSON text; nothing for a missing or null one. */
function structured(value: unknown): PromptParts {
  return value === undefined || value === null ? NO_PARTS : textsOnly([JSON.stringify(value)]);
}

const anyRecord = z.record(z.string(), z.unknown());
const textPart = z.looseObject({ text: z.string() });
const mediaTyped = z.looseObject({ type: z.enum([...MEDIA_PART_TYPES]) });
const tokenArray = z.array(z.number());
/** A message's content: OpenAI's and Anthropic's `content`, Gemini's `parts`. */
const messageContent = z.looseObject({ content: z.unknown().optional() }).transform((message) => message.content);
const geminiContent = z.looseObject({ parts: z.unknown().optional() }).transform((content) => content.parts);

/** Whether a part carries media: a media `type`, or one of Gemini's media fields. */
function isMedia(part: Readonly<Record<string, unknown>>): boolean {
  return mediaTyped.safeParse(part).success || MEDIA_PART_FIELDS.some((field) => part[field] !== undefined);
}

/** One part of a content list. */
function partOf(part: unknown, depth: number): PromptParts {
  if (typeof part === 'string') {
    return textsOnly([part]);
  }
  const text = textPart.safeParse(part);
  if (text.success) {
    return textsOnly([text.data.text]);
  }
  const record = anyRecord.safeParse(part);
  if (!record.success || Array.isArray(part)) {
    return NO_PARTS;
  }
  if (isMedia(record.data)) {
    return { ...NO_PARTS, media: 1 };
  }
  const nested = messageContent.safeParse(part);
  if (nested.success && nested.data !== undefined) {
    return contentParts(nested.data, depth + 1);
  }
  return structured(part);
}

/** A content value: a string, or parts (partOf), looked into up to MAX_CONTENT_DEPTH. */
function contentParts(content: unknown, depth = 0): PromptParts {
  if (typeof content === 'string') {
    return textsOnly([content]);
  }
  if (!Array.isArray(content) || depth >= MAX_CONTENT_DEPTH) {
    return NO_PARTS;
  }
  return joined(content.map((part: unknown) => partOf(part, depth)));
}

/** A list of messages, each read by `content` for its content, and by its `fields` for structured parts. */
function messageParts(list: unknown, content: z.ZodType<unknown>, fields: readonly string[] = []): PromptParts {
  const items: readonly unknown[] = Array.isArray(list) ? list : [];
  return joined(
    items.flatMap((item) => {
      const parsed = content.safeParse(item);
      if (!parsed.success) {
        return [];
      }
      const record = anyRecord.parse(item);
      return [
        { ...NO_PARTS, messages: 1 },
        contentParts(parsed.data),
        ...fields.map((field) => structured(record[field])),
      ];
    }),
  );
}

/** Embeddings' and the Responses API's `input`: a text, texts, token arrays, or items (content, else JSON). */
function inputParts(input: unknown): PromptParts {
  const whole = tokenArray.safeParse(input);
  const items: readonly unknown[] = whole.success || !Array.isArray(input) ? [input] : input;
  return joined(
    items.map((item): PromptParts => {
      const ids = tokenArray.safeParse(item);
      if (ids.success) {
        return { ...NO_PARTS, tokenIds: ids.data.length };
      }
      if (typeof item === 'string') {
        return textsOnly([item]);
      }
      const message = messageContent.safeParse(item);
      if (!message.success) {
        return NO_PARTS;
      }
      return joined([
        { ...NO_PARTS, messages: 1 },
        message.data === undefined ? structured(item) : contentParts(message.data),
      ]);
    }),
  );
}

const openAiPrompt = z.looseObject({
  messages: z.unknown().optional(),
  input: z.unknown().optional(),
  instructions: z.string().optional().catch(undefined),
  tools: z.unknown().optional(),
  functions: z.unknown().optional(),
});
const anthropicPrompt = z.looseObject({
  system: z.unknown().optional(),
  tools: z.unknown().optional(),
  messages: z.unknown().optional(),
});
const geminiPrompt = z.looseObject({
  contents: z.unknown().optional(),
  tools: z.unknown().optional(),
  systemInstruction: z.unknown().optional(),
  system_instruction: z.unknown().optional(),
});

/** A Gemini system instruction: a content with parts, or a text. */
function geminiSystemParts(instruction: unknown): PromptParts {
  const parts = geminiContent.safeParse(instruction);
  return parts.success ? contentParts(parts.data) : contentParts(instruction);
}

/**
 * What a request's prompt is made of, by its dialect: OpenAI's `messages[].content` and tool calls, the `input` of
 * embeddings and of the Responses API (with its `instructions`), and its `tools` and `functions`; Anthropic's
 * `system`, `tools` and `messages`; Gemini's `systemInstruction`, `tools` and `contents[].parts`. Tool definitions
 * and calls count as their JSON text, media parts by number; a body of another shape has no parts.
 */
function promptPartsBySchema(dialect: WireDialect, body: unknown): PromptParts {
  switch (dialect) {
    case 'openai': {
      const parsed = openAiPrompt.safeParse(body);
      if (!parsed.success) {
        return NO_PARTS;
      }
      const { instructions, messages, input, tools, functions } = parsed.data;
      return joined([
        textsOnly(instructions === undefined ? [] : [instructions]),
        structured(tools),
        structured(functions),
        messageParts(messages, messageContent, ['tool_calls', 'function_call']),
        input === undefined ? NO_PARTS : inputParts(input),
      ]);
    }
    case 'anthropic': {
      const parsed = anthropicPrompt.safeParse(body);
      return parsed.success
        ? joined([
            contentParts(parsed.data.system),
            structured(parsed.data.tools),
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
        geminiSystemParts(system),
        structured(parsed.data.tools),
        messageParts(parsed.data.contents, geminiContent),
      ]);
    }
  }
}

describe('promptText', () => {
  it('should read OpenAI messages: string content and text parts, images counted and never read as text', () => {
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
    expect(promptText('openai', body)).toBe('Be brief.\nWhat is this?\n[]');
    expect(promptParts('openai', body)).toMatchObject({ messages: 3, media: 1 });
  });

  it("should read OpenAI's tool definitions and the assistant's tool calls as their JSON", () => {
    const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
    const calls = [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }];
    const body = {
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
    };
    expect(promptParts('openai', body).texts).toEqual([
      JSON.stringify(tools),
      'Weather?',
      JSON.stringify(calls),
      'sunny',
    ]);
  });

  it('should read embeddings input: a text, texts, and token arrays by their length', () => {
    const none = { texts: [], tokenIds: 0, messages: 0, media: 0 };
    expect(promptParts('openai', { input: 'one' })).toEqual({ ...none, texts: ['one'] });
    expect(promptParts('openai', { input: ['a', 'b'] })).toEqual({ ...none, texts: ['a', 'b'] });
    expect(promptParts('openai', { input: [1, 2, 3] })).toEqual({ ...none, tokenIds: 3 });
    expect(promptParts('openai', { input: [[1, 2], [3]] })).toEqual({ ...none, tokenIds: 3 });
  });

  it('should read the Responses API: instructions and input items', () => {
    const body = {
      instructions: 'You are Codex.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'fix it' }] }],
    };
    expect(promptText('openai', body)).toBe('You are Codex.\nfix it');
    expect(promptParts('openai', body).messages).toBe(1);
    const call = { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{"cmd":"ls"}' };
    const output = { type: 'function_call_output', call_id: 'c1', output: 'README.md' };
    expect(promptParts('openai', { input: [call, output] }).texts).toEqual([
      JSON.stringify(call),
      JSON.stringify(output),
    ]);
  });

  it("should read Anthropic's system, tools and messages, tool uses as their JSON and tool results' content", () => {
    const tools = [{ name: 'f', description: 'Does f', input_schema: { type: 'object' } }];
    const use = { type: 'tool_use', id: 't', name: 'f', input: { a: 1 } };
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo' } };
    const body = {
      system: [{ type: 'text', text: 'Sys' }],
      tools,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [use] },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'ok' }, image] }],
        },
      ],
    };
    expect(promptParts('anthropic', body)).toEqual({
      texts: ['Sys', JSON.stringify(tools), 'Hi', JSON.stringify(use), 'ok'],
      tokenIds: 0,
      messages: 3,
      media: 1,
    });
    expect(promptText('anthropic', { system: 'plain', messages: [] })).toBe('plain');
  });

  it("should read Gemini's contents and system instruction, in either spelling", () => {
    const contents = [{ role: 'user', parts: [{ text: 'Q' }, { inlineData: { mimeType: 'x', data: '' } }] }];
    expect(promptText('gemini', { systemInstruction: { parts: [{ text: 'S' }] }, contents })).toBe('S\nQ');
    expect(promptText('gemini', { system_instruction: { parts: [{ text: 'S' }] }, contents })).toBe('S\nQ');
    expect(promptParts('gemini', { contents })).toMatchObject({ messages: 1, media: 1 });
    const call = { functionCall: { name: 'weather', args: { city: 'Paris' } } };
    const tools = [{ functionDeclarations: [{ name: 'weather' }] }];
    expect(promptParts('gemini', { tools, contents: [{ role: 'model', parts: [call] }] }).texts).toEqual([
      JSON.stringify(tools),
      JSON.stringify(call),
    ]);
  });

  it('should find nothing in bodies of another shape, and never throw', () => {
    const dialect = fc.constantFrom<WireDialect>('openai', 'anthropic', 'gemini');
    expect(promptParts('openai', 'text')).toEqual({ texts: [], tokenIds: 0, messages: 0, media: 0 });
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
            fc.record(
              { type: fc.constantFrom('image', 'image_url', 'input_audio', 'tool_use', 'thinking', 7), input: leaf },
              { requiredKeys: [] },
            ),
            fc.record(
              { inlineData: fc.oneof(leaf, fc.constant(undefined)), functionCall: leaf, fileData: leaf },
              { requiredKeys: [] },
            ),
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
      fc.record(
        {
          role: fc.constant('user'),
          content: fc.oneof(content, deep),
          parts: content,
          tool_calls: fc.oneof(leaf, content),
          function_call: leaf,
        },
        { requiredKeys: [] },
      ),
      fc.record({ type: fc.constant('function_call'), arguments: leaf }, { requiredKeys: [] }),
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
          tools: fc.oneof(leaf, content),
          functions: leaf,
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
