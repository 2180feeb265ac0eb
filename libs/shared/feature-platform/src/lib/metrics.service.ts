import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerView } from './readiness.service';

/** A breaker's state as the circuit gauges give it: 0 closed, 1 half-open, 2 open. */
const CIRCUIT_GAUGE_VALUES: Readonly<Record<BreakerView['state'], number>> = { closed: 0, half_open: 1, open: 2 };

/**
 * Prometheus metrics of one service. Labels are low-cardinality by construction: route patterns, never raw
 * paths; error kinds, never messages; so no credential can reach a label.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests handled, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to the end of the response (whole stream for streams).',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly requestsInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests being handled now.',
    registers: [this.registry],
  });
  readonly streamsInFlight = new Gauge({
    name: 'http_streams_in_flight',
    help: 'Event streams being relayed or translated now.',
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'upstream_errors_total',
    help: 'Upstream failures by upstream name and kind (timeout, unavailable, reset, bad response).',
    labelNames: ['upstream', 'kind'] as const,
    registers: [this.registry],
  });
  readonly lastResortErrors = new Counter({
    name: 'process_last_resort_errors_total',
    help: 'Exceptions and promise rejections nothing else caught (logged, the process kept serving), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: 'upstream_circuit_state',
    help: "Each upstream's circuit breaker: 0 closed, 1 half-open (one call probes it), 2 open (calls fail at once).",
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  /** Where the provider-key breakers are read at each scrape (ProviderKeys, in team mode); none: no series. */
  private keyBreakers: (() => Readonly<Record<string, BreakerView>>) | undefined;
  readonly keyCircuitState = new Gauge({
    name: 'provider_key_circuit_state',
    help: "Each pooled provider key's circuit breaker, by place (openai#1, never the key): 0 closed, 1 half-open, 2 open.",
    labelNames: ['key'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [key, view] of Object.entries(this.keyBreakers?.() ?? {})) {
        this.keyCircuitState.set({ key }, CIRCUIT_GAUGE_VALUES[view.state]);
      }
    },
  });
  readonly retries = new Counter({
    name: 'upstream_retries_total',
    help: 'Upstream calls tried again before the first byte, by upstream and reason (connection, 429, 5xx, key failover, model fallback).',
    labelNames: ['upstream', 'reason'] as const,
    registers: [this.registry],
  });
  readonly retryBudgetExhausted = new Counter({
    name: 'upstream_retry_budget_exhausted_total',
    help: 'Retries not made because the retry budget of the upstream was spent (the answer went to the client as it came).',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  readonly clientAborts = new Counter({
    name: 'client_aborts_total',
    help: 'Calls to an upstream ended because the client left before the answer was complete, by upstream.',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Reads the provider-key breakers from `source` at each scrape, as `provider_key_circuit_state{key}`. */
  registerKeyBreakers(source: () => Readonly<Record<string, BreakerView>>): void {
    this.keyBreakers = source;
  }
}
