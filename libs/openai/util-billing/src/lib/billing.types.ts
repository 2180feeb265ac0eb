/** One chunk of the key-mode answer of the cost query (docs/legacy-routes.md). */
export interface UsageChunk {
  start_date: string;
  end_date: string;
  used: number;
}

/** Key-mode answer of `GET /openai/billing/credit_grants`. */
export interface KeyModeCreditSummary {
  list_used: UsageChunk[];
  total_used: number;
  total_granted: number;
  start_date: string;
  end_date: string;
}

/** Every billing error: `{"error","start_date","end_date"}` (the original's shape, kept). */
export interface BillingErrorBody {
  error: string;
  start_date: string;
  end_date: string;
}

/** `total_usage` is in cents; the answer is in USD, not rounded. */
export function centsToUsd(totalUsage: number): number {
  return totalUsage * 0.01;
}
