import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { lastValueFrom } from 'rxjs';
import { MetricsService, PLATFORM_SETTINGS, ShutdownService } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { classifyUpstreamError } from '@openai-proxy/util-errors';
import { controlPlaneRequestConfig } from './control-plane-http';
import { UpstreamExchange, runExchange, shuttingDown } from './upstream-exchange';

export interface ControlPlaneRequest {
  /** Upstream name for errors (never a URL). */
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  data?: string;
  /** Ends the call: pass the `signal` of the call's exchange (see ControlPlaneClient.exchange). */
  signal?: AbortSignal;
}

/** An answer as it came (callers judge the status), its text, and the headers callers may need. */
export interface ControlPlaneAnswer {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

/**
 * Control-plane calls (billing, claude.ai conversations, the Bard page and its answers) through
 * `@nestjs/axios`, with the data plane's timeouts and egress proxy; a socket or timeout failure is classified
 * like the data plane's (502/503/504 naming the upstream, never its credentials).
 */
@Injectable()
export class ControlPlaneClient {
  constructor(
    private readonly http: HttpService,
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
  ) {}

  /**
   * Runs the control-plane calls made for one client as one exchange, registered with the drain: at its cap
   * the calls are aborted and answered 503 `server_shutting_down`; a client that leaves (when `client` is
   * given) aborts them and is counted as a client abort of `name`. Each call passes `exchange.signal`.
   */
  async exchange<T>(
    name: string,
    client: ServerResponse | undefined,
    run: (exchange: UpstreamExchange) => Promise<T>,
  ): Promise<T> {
    const exchange = new UpstreamExchange(client);
    try {
      return await runExchange(this.shutdown, exchange, run);
    } catch (error) {
      if (exchange.shuttingDown) {
        throw shuttingDown();
      }
      if (exchange.clientLeft) {
        this.metrics.clientAborts.inc({ upstream: name });
      }
      throw error;
    }
  }

  async request(request: ControlPlaneRequest): Promise<ControlPlaneAnswer> {
    try {
      const response = await lastValueFrom(
        this.http.request<string>({
          ...controlPlaneRequestConfig(this.settings.upstream, request.url),
          url: request.url.toString(),
          method: request.method,
          maxRedirects: 0,
          headers: request.headers,
          data: request.data,
          signal: request.signal,
        }),
      );
      const retryAfter: unknown = response.headers['retry-after'];
      return {
        status: response.status,
        text: String(response.data ?? ''),
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      };
    } catch (error) {
      throw classifyUpstreamError(error, request.name);
    }
  }
}
