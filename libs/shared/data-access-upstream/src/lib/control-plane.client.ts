import { Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import { readAnswerText } from './answer-text';
import { RelayService } from './relay.service';
import { CallDeadline } from './call-deadline';
import type { RetryScope } from './retry-policy';
import { requestUpstream } from './upstream-call';
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

/** A control-plane call its budget ended: 504 naming the upstream. */
function notInTime(name: string): GatewayException {
  return new GatewayException(ErrorCode.UpstreamTimeout, `Upstream ${name} did not answer in time`);
}

/**
 * Which failures of a control-plane call are tried again. A GET or DELETE asks for the same thing however often
 * it is sent: a connection failure, a 429 and a 5xx are retried, as on the data plane's provider hops. A POST
 * (claude.ai's conversation creation) is retried on a connection failure that cannot have reached the upstream's
 * work only (retry-policy.ts): a 5xx may come after the conversation was made.
 */
export function controlPlaneRetryScope(method: ControlPlaneRequest['method']): RetryScope {
  return method === 'POST' ? 'connection' : 'all';
}

/**
 * Control-plane calls (billing, claude.ai conversations, the Bard page) on the data plane's
 * undici pools (RelayService.dispatchers): the same timeouts, keep-alive and egress proxy, no redirects
 * followed, the status returned as it came; a socket or timeout failure is classified like the data plane's
 * (502/503/504 naming the upstream, never its credentials). Each call goes through the one retry layer
 * (requestUpstream, controlPlaneRetryScope) with the breaker and retry budget of its `name`: claude.ai's and
 * Bard's share those of their data-plane calls (`claude.ai`, `bard`: one web service each), the cost query's
 * billing calls have their own (`openai/billing`, apart from the relayed traffic). Each call is short: the headers budget
 * (UPSTREAM_HEADERS_TIMEOUT_MS) bounds it whole, its retries included, a 504 past it.
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
    const target = {
      name: request.name,
      kind: 'provider',
      dispatcher: this.relay.dispatchers.forProvider(request.url),
      guard: this.relay.guards.for(request.name),
    } as const;
    try {
      const answer = await requestUpstream(
        target,
        {
          origin: request.url.origin,
          path: `${request.url.pathname}${request.url.search}`,
          method: request.method,
          headers: request.headers,
          body: request.data,
          signal: deadline.exchange,
        },
        controlPlaneRetryScope(request.method),
        deadline.exchange,
        true,
      );
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
