import { MetricsService } from '@openai-proxy/feature-platform';
import type { UpstreamRetrySettings } from '@openai-proxy/util-config';
import { UpstreamGuard } from '../upstream-guard';

/** The retry layer's defaults (UPSTREAM_RETRIES and its siblings unset), for settings a spec writes out. */
export const DEFAULT_RETRY_SETTINGS: UpstreamRetrySettings = {
  retries: 2,
  budgetPercent: 20,
  breakerFailures: 5,
  breakerOpenMs: 10_000,
};

/** A guard of its own for a target a spec builds by hand (RelayService.target gives each one otherwise). */
export function specGuard(name: string, settings: UpstreamRetrySettings = DEFAULT_RETRY_SETTINGS): UpstreamGuard {
  return new UpstreamGuard(name, settings, new MetricsService());
}
