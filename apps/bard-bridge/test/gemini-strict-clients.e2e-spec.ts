import type { NestExpressApplication } from '@nestjs/platform-express';
import OpenAI from 'openai';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { FakeUpstream, json, sse } from '@openai-proxy/testing-fakes';
import { loadBardBridgeConfig } from '../src/config/bard-bridge.env';
import { createBardBridgeApp } from '../src/bard-bridge.app';

const KEY = 'AIzaStrictClients0123456789';
const SIGNATURE = 'UhcdroWJwUDAqqnsj/vLD5pZ7PXk8VilhHl+O4Xhryo=';
const GENERATE = /^\/v1beta\/models\/[^/:]+:generateContent$/;
const STREAM = /^\/v1beta\/models\/[^/:]+:streamGenerateContent$/;
// A tool as the Vercel AI SDK sends it (zod → JSON Schema draft-07), written by hand.
const TOOL_PARAMETERS = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { city: { type: 'string', minLength: 1 }, unit: { type: ['string', 'null'], enum: ['C', 'F', null] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: TOOL_PARAMETERS } },
];
const CALL_ANSWER = {
  candidates: [
    {
      index: 0,
      finishReason: 'STOP',
      content: {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Oslo', unit: 'C' } }, thoughtSignature: SIGNATURE },
        ],
      },
    },
  ],
  usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
  responseId: 'resp1',
};

describe('Gemini API route with strict clients (openai SDK → bard-bridge → fake Gemini)', () => {
  let gemini: FakeUpstream;
  let app: NestExpressApplication;
  let client: OpenAI;

  beforeAll(async () => {
    gemini = await FakeUpstream.start();
    gemini
      .on('POST', GENERATE, json(200, CALL_ANSWER))
      .on('POST', STREAM, sse({ frames: [`data: ${JSON.stringify(CALL_ANSWER)}\n\n`] }));
    app = await createBardBridgeApp(loadBardBridgeConfig({ LOG_LEVEL: 'silent', GEMINI_API_BASE: gemini.url }));
    await listenServiceApp(app, 0, '127.0.0.1');
    client = new OpenAI({ apiKey: KEY, baseURL: `${await app.getUrl()}/google/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await app.close();
    await gemini.close();
  });

  function lastBody(): { contents: Array<{ parts: Array<Record<string, unknown>> }>; tools?: unknown } {
    return JSON.parse(gemini.lastRequest('/v1beta/models/')?.body.toString() ?? '{}') as ReturnType<typeof lastBody>;
  }

  async function nextTurn(call: OpenAI.Chat.ChatCompletionMessageToolCall): Promise<Record<string, unknown>> {
    await client.chat.completions.create({
      model: 'gemini-3-pro-preview',
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '3C' },
      ],
    });
    return lastBody().contents[1]?.parts[0] ?? {};
  }

  it('should send the SDK tool schema as parametersJsonSchema and restore the signature of a non-streamed call', async () => {
    const answer = await client.chat.completions.create({
      model: 'gemini-3-pro-preview',
      tools: TOOLS,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    const expectedSchema = Object.fromEntries(Object.entries(TOOL_PARAMETERS).filter(([key]) => key !== '$schema'));
    expect(lastBody().tools).toEqual([
      { functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: expectedSchema }] },
    ]);
    const call = answer.choices[0]?.message.tool_calls?.[0] as OpenAI.Chat.ChatCompletionMessageToolCall;
    expect(call.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await nextTurn(call)).toEqual({
      functionCall: { name: 'get_weather', args: { city: 'Oslo', unit: 'C' } },
      thoughtSignature: SIGNATURE,
    });
  });

  it('should restore the signature of a streamed call on the next turn', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-3-pro-preview',
      tools: TOOLS,
      stream: true,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    const ids: string[] = [];
    for await (const chunk of stream) {
      ids.push(
        ...(chunk.choices[0]?.delta.tool_calls ?? []).flatMap((call) => (call.id === undefined ? [] : [call.id])),
      );
    }
    expect(ids).toHaveLength(1);
    const part = await nextTurn({
      id: ids[0] ?? '',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Oslo","unit":"C"}' },
    });
    expect(part['thoughtSignature']).toBe(SIGNATURE);
  });
});
