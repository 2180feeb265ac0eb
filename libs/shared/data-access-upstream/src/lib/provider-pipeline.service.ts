import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PLATFORM_SETTINGS, pathnameOf } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { readJsonBody } from './json-body';
import type { CallReport, ProviderAdapter } from '@openai-proxy/util-provider-contract';
import { ProviderCallService } from './provider-call.service';
import { RelayService } from './relay.service';
import type { RelayTarget } from './relay.types';

/** Which provider and operation a call report is of. */
export interface ReportedCall {
  /** The adapter's name (`anthropic`), as in the metrics. */
  provider: string;
  operation: string;
}

/** Told of each call's report once the call has ended (a ledger reads the usage here). */
export type ReportListener = (report: CallReport, call: ReportedCall) => void;

/**
 * The one pipeline every translating provider runs on: the JSON body read with the `MAX_JSON_BODY_BYTES` limit
 * (413 over it, 400 when malformed), the client's credentials (401 without), the input validated at entry (400
 * naming the field), then the adapter's prepared call through ProviderCallService (cancellation, the drain,
 * metrics, SSE framing, heartbeats, mid-stream errors, 502 for answers of the wrong shape). Resolves with the
 * call's report, its usage included; a failure before the answer started is thrown for the error envelope.
 */
@Injectable()
export class ProviderPipeline {
  /** One upstream target (its connection pool) per adapter, made on its first call. */
  private readonly targets = new WeakMap<object, RelayTarget>();
  private readonly listeners = new Set<ReportListener>();

  constructor(
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly calls: ProviderCallService,
    private readonly relayService: RelayService,
  ) {}

  async serve<Credentials, Operation extends string>(
    adapter: ProviderAdapter<Credentials, Operation>,
    operation: Operation,
    request: IncomingMessage,
    response: ServerResponse,
    params: Readonly<Record<string, string>> = {},
  ): Promise<CallReport> {
    const served = adapter.operations[operation];
    const reader = served.input;
    const body = reader.body === 'json' ? await readJsonBody(request, this.settings.maxJsonBodyBytes) : undefined;
    const credentials = adapter.credentials(request.headers);
    const input = reader.body === 'json' ? reader.parse(body) : reader.input;
    const pathname = pathnameOf(request.url ?? '/');
    const call: ReportedCall = { provider: adapter.name, operation };
    return this.calls.run(
      this.targetOf(adapter),
      adapter.translateError,
      response,
      (signal) => served.prepare({ input, credentials, headers: request.headers, params, pathname, signal }),
      (report) => this.report(report, call),
    );
  }

  /**
   * Calls `listener` with the report of every call that reached its operation (the usage, or the failure),
   * once the call has ended; returns what stops it. A request refused before (no credentials, a bad body)
   * made no provider call and is not reported.
   */
  onReport(listener: ReportListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A listener's failure never changes the client's answer, nor keeps the other listeners from the report. */
  private report(report: CallReport, call: ReportedCall): void {
    for (const listener of this.listeners) {
      try {
        listener(report, call);
      } catch {
        continue;
      }
    }
  }

  /**
   * The adapter's upstream, resolved once (its breaker and retry budget with it, which /readyz shows from then on:
   * registerProviderRoutes resolves it when it registers the adapter's routes, before any call).
   */
  targetOf(adapter: ProviderAdapter<unknown, string>): RelayTarget {
    let target = this.targets.get(adapter);
    if (target === undefined) {
      target = this.relayService.target({ name: adapter.name, baseUrl: adapter.baseUrl, kind: 'provider' });
      this.targets.set(adapter, target);
    }
    return target;
  }
}
