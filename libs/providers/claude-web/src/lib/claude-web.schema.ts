import { z } from 'zod';
import type { CompletionEvent } from './claude-web.types';

/**
 * One `data:` event of append_message, checked where it enters: `completion` text, a `stop_reason` text or
 * null, an `error` object. Anything else (`null`, a list, a number where text belongs) is refused before the
 * transformer reads it; fields claude.ai adds later pass through unread.
 */
export const completionEventSchema: z.ZodType<CompletionEvent> = z.looseObject({
  completion: z.string().optional(),
  stop_reason: z.string().nullish(),
  model: z.string().optional(),
  error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
});
