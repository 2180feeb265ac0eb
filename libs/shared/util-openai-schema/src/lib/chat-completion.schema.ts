import { z } from 'zod';
import type { ChatCompletionRequest } from './chat-completion.types';

/** The part types the bridges read (`text` everywhere, `image_url` where the provider takes images). */
const contentPart = z.looseObject({ type: z.string({ error: 'a content part needs a type, "text" or "image_url"' }) });
const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: z.string().optional(),
});
const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
const toolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
]);

/** The fields a bridge reads, checked; every other field passes through for the adapter to accept or refuse. */
const chatCompletionRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  n: z.number().int().positive().nullish(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: z.looseObject({ type: z.string() }).optional(),
  user: z.string().optional(),
});

export interface ChatRequestProblem {
  message: string;
  /** The offending field as OpenAI names it (`messages[0].role`). */
  param: string;
}

function paramOf(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`),
    '',
  );
}

interface ReportedIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/**
 * What an issue names. A union that no branch matched names itself, which hides where a branch failed inside it
 * (a content part without a type would name the whole content); OpenAI names the deepest param, so the branch
 * that got furthest in is followed when it got further than the union itself.
 */
function deepestIssue(issue: z.core.$ZodIssue): ReportedIssue {
  if (issue.code !== 'invalid_union') {
    return { path: issue.path, message: issue.message };
  }
  const inner = issue.errors
    .flat()
    .map(deepestIssue)
    .reduce<ReportedIssue>((best, next) => (next.path.length > best.path.length ? next : best), {
      path: [],
      message: issue.message,
    });
  return { path: [...issue.path, ...inner.path], message: inner.message };
}

/** Validates a chat completions body; the first problem names its field. */
export function parseChatCompletionRequest(
  body: unknown,
): { request: ChatCompletionRequest } | { problem: ChatRequestProblem } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      problem: {
        message: 'The request body must be a JSON object (send Content-Type: application/json)',
        param: 'body',
      },
    };
  }
  const result = chatCompletionRequest.safeParse(body);
  if (result.success) {
    return { request: result.data as ChatCompletionRequest };
  }
  const first = result.error.issues[0];
  const issue = first === undefined ? undefined : deepestIssue(first);
  const param = issue === undefined ? 'body' : paramOf(issue.path);
  return { problem: { message: `Invalid ${param}: ${issue?.message ?? 'invalid value'}`, param } };
}
