import { z } from 'zod';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { InputReader } from '@openai-proxy/util-provider-contract';

/** What a client asks Bard: a prompt, and the id of the conversation it continues (none starts a new one). */
export interface BardInput {
  prompt: string;
  conversationId: string | undefined;
}

/** The body `{"prompt", "conversationId"?}`; a conversationId that is not a non-empty string starts a new chat. */
const bardBodySchema = z.object({
  prompt: z.string().min(1),
  conversationId: z.string().min(1).optional().catch(undefined),
});

/** The Bard route's JSON body, validated at entry: a 400 naming `prompt` when it is missing or empty. */
export const bardInput: InputReader<BardInput> = {
  body: 'json',
  parse(body) {
    const parsed = bardBodySchema.safeParse(body);
    if (!parsed.success) {
      throw new GatewayException(ErrorCode.InvalidRequest, 'prompt is required (a non-empty string)', {
        param: 'prompt',
      });
    }
    return { prompt: parsed.data.prompt, conversationId: parsed.data.conversationId };
  },
};
