import { z } from 'zod';
import type { CreatedKeyAnswer, GatewayKeyAnswer } from '@openai-proxy/gateway-util-team';

const perMinute = z.number().int().positive().nullable();

/** A key's settings as every admin answer shows them. */
const keySettingsShape = {
  object: z.literal('gateway_key'),
  id: z.string(),
  name: z.string(),
  models: z.array(z.string()),
  rpm: perMinute,
  tpm: perMinute,
  budget_usd: z.number().nonnegative().nullable(),
  budget_period: z.enum(['monthly', 'total']),
  expires_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
};

/** A key as `GET /admin/keys/:id` (and the list, PATCH and DELETE) answers it, exactly: never its secret. */
export const gatewayKeyAnswerSchema = z.strictObject({
  ...keySettingsShape,
  key_prefix: z.string().startsWith('gk-'),
  revoked_at: z.iso.datetime().nullable(),
  spent_usd: z.number().nonnegative(),
}) satisfies z.ZodType<GatewayKeyAnswer>;

/** The 201 answer of `POST /admin/keys`, exactly: the settings and the key, the one time it is shown. */
export const createdKeyAnswerSchema = z.strictObject({
  ...keySettingsShape,
  key: z.string().startsWith('gk-'),
}) satisfies z.ZodType<CreatedKeyAnswer>;

/** The answer of `GET /admin/keys`, exactly. */
export const keyListAnswerSchema = z.strictObject({
  object: z.literal('list'),
  data: z.array(gatewayKeyAnswerSchema),
});
