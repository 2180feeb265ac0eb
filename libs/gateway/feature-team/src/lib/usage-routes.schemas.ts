import { z } from 'zod';
import type {
  BillingSubscriptionAnswer,
  BillingUsageAnswer,
  UsageAnswer,
  UsageGroupAnswer,
  UsageTotalsAnswer,
} from '@openai-proxy/gateway-util-team';

const count = z.number().int().nonnegative();
const usd = z.number().nonnegative();

/** Usage counts as the usage routes answer them. */
const usageTotalsSchema = z.strictObject({
  requests: count,
  prompt_tokens: count,
  completion_tokens: count,
  cost_usd: usd,
}) satisfies z.ZodType<UsageTotalsAnswer>;

/** One group of a usage answer: a model, a key id (its `name` beside it) or a UTC day. */
const usageGroupSchema = usageTotalsSchema.extend({
  group: z.string(),
  name: z.string().optional(),
}) satisfies z.ZodType<UsageGroupAnswer>;

/** The answer of `GET /v1/usage` and `GET /admin/usage`, exactly (no other field). */
export const usageAnswerSchema = z.strictObject({
  object: z.literal('list'),
  start_date: z.iso.date(),
  end_date: z.iso.date(),
  group_by: z.enum(['key', 'model', 'day']),
  data: z.array(usageGroupSchema),
  total: usageTotalsSchema,
}) satisfies z.ZodType<UsageAnswer>;

/** The answer of `GET /dashboard/billing/subscription`, exactly. */
export const billingSubscriptionSchema = z.strictObject({
  object: z.literal('billing_subscription'),
  has_payment_method: z.literal(true),
  soft_limit_usd: usd,
  hard_limit_usd: usd,
  system_hard_limit_usd: usd,
  access_until: count,
}) satisfies z.ZodType<BillingSubscriptionAnswer>;

/** The answer of `GET /dashboard/billing/usage` (US cents), exactly. */
export const billingUsageSchema = z.strictObject({
  object: z.literal('list'),
  total_usage: z.number().nonnegative(),
  daily_costs: z.array(
    z.strictObject({
      timestamp: count,
      line_items: z.array(z.strictObject({ name: z.string(), cost: z.number().nonnegative() })),
    }),
  ),
}) satisfies z.ZodType<BillingUsageAnswer>;

/** A JSON Schema for /docs. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { io });
}
