import { z } from 'zod';
import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { invalidParam } from '@openai-proxy/util-errors';
import type { GeminiGenerationConfig } from './gemini.types';

/**
 * A client's JSON Schema as Gemini's `parametersJsonSchema` / `responseJsonSchema` take it. Those fields accept
 * JSON Schema as the Vercel AI SDK, LangChain and zod write it (`additionalProperties`, `type` arrays, `anyOf`,
 * `default`, `format`, …); only the root `$schema` dialect marker is dropped, as it describes the document
 * rather than the value. A copy: the client's object is never changed.
 */
export function toGeminiJsonSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema'));
}

const jsonSchemaFormat = z.looseObject({
  type: z.literal('json_schema'),
  json_schema: z.looseObject({ schema: z.record(z.string(), z.unknown()).optional() }),
});

type ResponseFormatConfig = Pick<GeminiGenerationConfig, 'responseMimeType' | 'responseJsonSchema'>;

/**
 * `response_format` → Gemini: `json_object` asks for JSON, `json_schema` for JSON of that schema
 * (`responseJsonSchema`); `text` is the default; any other type is a 400 naming `response_format`.
 */
export function responseFormatConfig(request: ChatCompletionRequest): ResponseFormatConfig {
  const format = request.response_format;
  if (format === undefined || format.type === 'text') {
    return {};
  }
  if (format.type === 'json_object') {
    return { responseMimeType: 'application/json' };
  }
  if (format.type !== 'json_schema') {
    throw invalidParam(
      `response_format type ${format.type} is not supported by the Gemini API bridge`,
      'response_format',
    );
  }
  const parsed = jsonSchemaFormat.safeParse(format);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = ['response_format', ...(issue?.path ?? []).map(String)].join('.');
    throw invalidParam(`Invalid ${param}: ${issue?.message ?? 'invalid value'}`, param);
  }
  const schema = parsed.data.json_schema.schema;
  return {
    responseMimeType: 'application/json',
    ...(schema === undefined ? {} : { responseJsonSchema: toGeminiJsonSchema(schema) }),
  };
}
