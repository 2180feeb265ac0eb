import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import { readAnswerText } from './answer-text';
import { RelayService } from './relay.service';
import { UpstreamExchange, exchangeError, runExchange } from './upstream-exchange';

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

/** What a control-plane answer's text may weigh (a Bard page, a claude.ai list); past it the call is a 502. */
const MAX_CONTROL_PLANE_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * The end of one control-plane call: the headers budget for the whole call (its body included, however slowly it
 * comes; 0: none), or the caller's signal, whichever comes first. `signal` is what the call passes to undici.
 */
class CallDeadline {
  /** The budget ran out (rather than the caller's signal aborting). */
  expired = false;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    budgetMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    if (caller?.aborted === true) {
      this.controller.abort();
    }
    caller?.addEventListener('abort', this.onCallerAbort, { once: true });
    if (budgetMs > 0) {
      this.timer = setTimeout(() => {
        this.expired = true;
        this.controller.abort();
      }, budgetMs);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops watching: the call is over. */
  clear(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }

  private readonly onCallerAbort = (): void => {
    this.controller.abort();
  };
}

/** A control-plane call its budget ended: 504 naming the upstream. */
function notInTime(name: string): GatewayException {
  return new GatewayException(ErrorCode.UpstreamTimeout, `Upstream ${name} did not answer in time`);
}

/**
 * Control-plane calls (billing, claude.ai conversations, the Bard page) on the data plane's
 * undici pools (RelayService.dispatchers): the same timeouts, keep-alive and egress proxy, no redirects
 * followed, the status returned as it came; a socket or timeout failure is classified like the data plane's
 * (502/503/504 naming the upstream, never its credentials). Each call is short: the headers budget
 * (UPSTREAM_HEADERS_TIMEOUT_MS) bounds it whole, a 504 past it.
 */
@Injectable()
export class ControlPlaneClient {
  constructor(
    private readonly relay: RelayService,
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
      throw exchangeError(exchange, error, this.metrics, name);
    }
  }

  async request(request: ControlPlaneRequest): Promise<ControlPlaneAnswer> {
    const deadline = new CallDeadline(this.relay.dispatchers.settings.headersTimeoutMs, request.signal);
    try {
      const answer = await this.relay.dispatchers.forProvider(request.url).request({
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: request.method,
        headers: request.headers,
        body: request.data,
        signal: deadline.signal,
      });
      const retryAfter = answer.headers['retry-after'];
      return {
        status: answer.statusCode,
        text: await readAnswerText(answer.body, MAX_CONTROL_PLANE_ANSWER_BYTES),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (error) {
      throw deadline.expired ? notInTime(request.name) : classifyUpstreamError(error, request.name);
    } finally {
      deadline.clear();
    }
  }
}
