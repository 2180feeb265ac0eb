import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { toGeminiRequest } from './request.transform';

const fixtureJson = <T>(name: string): T =>
  JSON.parse(readFileSync(join(__dirname, '__fixtures__', name), 'utf8')) as T;

const ANSWER_SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    temperature: { type: ['number', 'null'] },
    unit: { type: 'string', enum: ['C', 'F'] },
  },
  required: ['city', 'temperature', 'unit'],
  additionalProperties: false,
};

function withFormat(responseFormat: Record<string, unknown>): ChatCompletionRequest {
  return {
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'Weather in Paris as JSON' }],
    response_format: responseFormat as ChatCompletionRequest['response_format'],
  };
}

describe('Gemini tool parameters (regression: $schema and additionalProperties from SDK schemas got a 400)', () => {
  it('should send the Vercel AI SDK and LangChain schemas as parametersJsonSchema, $schema left out', () => {
    // Schemas written by hand after what those libraries emit (zod-to-json-schema draft-07, pydantic via LangChain).
    expect(toGeminiRequest(fixtureJson<ChatCompletionRequest>('request-client-tool-schemas.openai.json'))).toEqual(
      fixtureJson('request-client-tool-schemas.gemini.json'),
    );
  });

  it('should leave the client schema untouched when $schema is dropped from the copy sent upstream', () => {
    const request = fixtureJson<ChatCompletionRequest>('request-client-tool-schemas.openai.json');
    toGeminiRequest(request);
    expect(request.tools?.[0]?.function.parameters?.['$schema']).toBe('http://json-schema.org/draft-07/schema#');
  });
});

describe('Gemini response_format json_schema (regression: refused although Gemini takes responseJsonSchema)', () => {
  it('should send the schema as responseJsonSchema with responseMimeType application/json', () => {
    const body = toGeminiRequest(
      withFormat({
        type: 'json_schema',
        json_schema: {
          name: 'weather',
          strict: true,
          schema: { $schema: 'http://json-schema.org/draft-07/schema#', ...ANSWER_SCHEMA },
        },
      }),
    );
    expect(body.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: ANSWER_SCHEMA });
  });

  it('should ask for JSON only when json_schema carries no schema', () => {
    const body = toGeminiRequest(withFormat({ type: 'json_schema', json_schema: { name: 'anything' } }));
    expect(body.generationConfig).toEqual({ responseMimeType: 'application/json' });
  });

  it.each([
    [{ type: 'json_schema' }, 'response_format.json_schema'],
    [{ type: 'json_schema', json_schema: { name: 'x', schema: [1] } }, 'response_format.json_schema.schema'],
    [{ type: 'json_schema', json_schema: { name: 'x', schema: 'object' } }, 'response_format.json_schema.schema'],
    [{ type: 'grammar', grammar: 'root ::= "a"' }, 'response_format'],
  ])('should refuse %p naming %s', (responseFormat, param) => {
    expect(() => toGeminiRequest(withFormat(responseFormat))).toThrow(expect.objectContaining({ param }));
  });

  it('should keep json_object and text as they were', () => {
    expect(toGeminiRequest(withFormat({ type: 'json_object' })).generationConfig).toEqual({
      responseMimeType: 'application/json',
    });
    expect(toGeminiRequest(withFormat({ type: 'text' })).generationConfig).toBeUndefined();
  });
});
