/**
 * Gemini API wire types, the subset the bridge reads and writes: the body and answer of `generateContent`, and
 * the events of `streamGenerateContent`, each shaped like an answer. A field the bridge does not use yet is not
 * here: Google's reference lists them all (https://ai.google.dev/api/generate-content). How each one maps to
 * OpenAI's is in docs/provider-mapping.md.
 */

export interface GeminiPart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  functionCall?: { name: string; args?: Record<string, unknown> };
  functionResponse?: { name: string; response: Record<string, unknown> };
  thought?: boolean;
  /**
   * Opaque base64 token for the model's hidden reasoning. On a `functionCall` part it must come back on that
   * same part in the next request (Gemini 3 refuses the turn otherwise); how it travels in an OpenAI tool call
   * id is in docs/provider-mapping.md, "Thought signatures".
   */
  thoughtSignature?: string;
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  responseMimeType?: string;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  /** A JSON Schema for the answer, with `responseMimeType: application/json` (v1beta). */
  responseJsonSchema?: Record<string, unknown>;
}

/**
 * A tool: one function the model may call. `parametersJsonSchema` takes JSON Schema as
 * clients write it; `parameters`, its OpenAPI-subset sibling, refuses keywords such as `$schema` and
 * `additionalProperties` ("Unknown name"). The two are mutually exclusive: the bridge sends only the first.
 */
export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parametersJsonSchema?: Record<string, unknown>;
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  generationConfig?: GeminiGenerationConfig;
  tools?: Array<{
    functionDeclarations: GeminiFunctionDeclaration[];
  }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  index?: number;
}

export interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  /** Tokens spent thinking: billed as output, so counted in completion tokens. */
  thoughtsTokenCount?: number;
  /** Prompt tokens served from cached content (part of promptTokenCount). */
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  usageMetadata?: GeminiUsage;
  modelVersion?: string;
  responseId?: string;
  promptFeedback?: { blockReason?: string };
}

export interface GeminiModelList {
  models?: Array<{ name: string; displayName?: string; supportedGenerationMethods?: string[] }>;
}
