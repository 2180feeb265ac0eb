import { z } from 'zod';
import type { GeminiModelList, GeminiResponse } from './gemini.types';

/**
 * What the bridge reads from Gemini, checked where it enters: a frame or body of another shape (`null`, a
 * `candidates` that is not an array, a `null` part, an `error` that is not an object) is refused before any
 * transform sees it. Objects stay loose: fields Gemini adds later pass through unread.
 */
const part = z.looseObject({
  text: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional(),
  functionCall: z.looseObject({ name: z.string(), args: z.record(z.string(), z.unknown()).optional() }).optional(),
  functionResponse: z.looseObject({ name: z.string(), response: z.record(z.string(), z.unknown()) }).optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
});

const candidate = z.looseObject({
  content: z.looseObject({ role: z.string().optional(), parts: z.array(part).optional() }).optional(),
  finishReason: z.string().optional(),
  index: z.number().int().nonnegative().optional(),
});

const usage = z.looseObject({
  promptTokenCount: z.number().optional(),
  candidatesTokenCount: z.number().optional(),
  thoughtsTokenCount: z.number().optional(),
  cachedContentTokenCount: z.number().optional(),
  totalTokenCount: z.number().optional(),
});

const response = z.looseObject({
  candidates: z.array(candidate).optional(),
  usageMetadata: usage.optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
  promptFeedback: z.looseObject({ blockReason: z.string().optional() }).optional(),
});

/** A generateContent answer. */
export const geminiResponseSchema: z.ZodType<GeminiResponse> = response;

/** `{"error":{"code","message","status"}}`, which Gemini can also send as a stream frame. */
const error = z.looseObject({
  code: z.number().optional(),
  message: z.string().optional(),
  status: z.string().optional(),
});

/** One `data:` frame of streamGenerateContent: a response, or an error (whose `error` must be an object). */
export const geminiStreamFrameSchema = z.union([
  z.looseObject({ error }),
  response.extend({ error: z.never().optional() }),
]);

export type GeminiStreamFrame = z.infer<typeof geminiStreamFrameSchema>;

export const geminiModelListSchema: z.ZodType<GeminiModelList> = z.looseObject({
  models: z
    .array(
      z.looseObject({
        name: z.string(),
        displayName: z.string().optional(),
        supportedGenerationMethods: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
