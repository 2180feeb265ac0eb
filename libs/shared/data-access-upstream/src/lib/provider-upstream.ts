import type { Dispatcher } from 'undici';
import type { MetricsService } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException, classifyUpstreamError, parseJsonText } from '@openai-proxy/util-errors';
import type {
  EncodedBody,
  ErrorTranslator,
  UnreadableAnswer,
  UpstreamRequest,
} from '@openai-proxy/util-provider-contract';
import { readAnswerText } from './answer-text';
import type { RelayTarget } from './relay.types';
import { retryScope } from './retry-policy';
import { requestUpstream } from './upstream-call';
import { type UpstreamExchange, shuttingDown } from './upstream-exchange';

/** One call to a provider API: the adapter's request to one upstream target. */
export interface ProviderCall extends UpstreamRequest {
  target: RelayTarget;
  /** The caller fails over between keys itself (CALLER_RETRIES_HEADER): a 429 or 5xx is not retried here. */
  callerRetries: boolean;
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isSuccess(upstream: Dispatcher.ResponseData): boolean {
  return upstream.statusCode >= 200 && upstream.statusCode < 300;
}

/** The request body as sent: the encoded one, else the JSON one, else none. */
function encodedBodyOf(call: UpstreamRequest): EncodedBody | undefined {
  if (call.encodedBody !== undefined) {
    return call.encodedBody;
  }
  return call.body === undefined ? undefined : { contentType: 'application/json', text: JSON.stringify(call.body) };
}

/**
 * The I/O of a provider call and what its failures mean: the request sent, a 2xx answer opened or read whole,
 * the provider's error before the first byte (status kept), sockets and timeouts classified, each failure
 * counted in the metrics by kind (a client that left as a client abort).
 */
export class ProviderUpstream {
  constructor(private readonly metrics: MetricsService) {}

  /** Reads a whole answer: its text when it is a 2xx, else the provider's error thrown. */
  async readWhole(call: ProviderCall, translateError: ErrorTranslator, exchange: UpstreamExchange): Promise<string> {
    const upstream = await this.send(call, exchange);
    const text = await this.readAnswer(upstream, call.target.name, exchange);
    if (!isSuccess(upstream)) {
      throw translateError(upstream.statusCode, parseJsonText(text), header(upstream.headers, 'retry-after'));
    }
    return text;
  }

  /** Starts a streamed call: a 2xx answer to read, or the provider's error (status kept) thrown. */
  async open(
    call: ProviderCall,
    translateError: ErrorTranslator,
    exchange: UpstreamExchange,
  ): Promise<Dispatcher.ResponseData> {
    const upstream = await this.send(call, exchange);
    if (!isSuccess(upstream)) {
      throw translateError(
        upstream.statusCode,
        parseJsonText(await this.readAnswer(upstream, call.target.name, exchange)),
        header(upstream.headers, 'retry-after'),
      );
    }
    return upstream;
  }

  /** Reads a whole answer; a reset or an idle stall while reading is classified like a failed call. */
  async readAnswer(upstream: Dispatcher.ResponseData, name: string, exchange: UpstreamExchange): Promise<string> {
    try {
      return await readAnswerText(upstream.body);
    } catch (error) {
      throw this.failure(error, name, exchange);
    }
  }

  /**
   * A 2xx answer the adapter could not read: 502 upstream_bad_response with the adapter's message, else one
   * saying why (the body itself is never echoed).
   */
  badResponse(name: string, unreadable: UnreadableAnswer): GatewayException {
    this.metrics.upstreamErrors.inc({ upstream: name, kind: ErrorCode.UpstreamBadResponse });
    const why =
      unreadable.problem === 'not JSON'
        ? `Upstream ${name} answered with something that is not JSON`
        : `Upstream ${name} answered with a body of an unexpected shape`;
    return new GatewayException(ErrorCode.UpstreamBadResponse, unreadable.message ?? why);
  }

  /**
   * What a failed call means: the drain cap (503), a client that left (counted as a client abort, not as an
   * upstream error: nobody reads the answer), or an upstream failure classified and counted by kind.
   */
  failure(error: unknown, name: string, exchange: UpstreamExchange): GatewayException {
    if (exchange.shuttingDown) {
      return shuttingDown();
    }
    const exception = classifyUpstreamError(error, name);
    if (exchange.clientLeft) {
      this.metrics.clientAborts.inc({ upstream: name });
    } else if (exception.code !== ErrorCode.PayloadTooLarge) {
      this.metrics.upstreamErrors.inc({ upstream: name, kind: exception.code });
    }
    return exception;
  }

  /** Sends the call through the retry layer (its body is text, so it can always be sent again). */
  private async send(call: ProviderCall, exchange: UpstreamExchange): Promise<Dispatcher.ResponseData> {
    const encoded = encodedBodyOf(call);
    try {
      return await requestUpstream(
        call.target,
        {
          origin: call.target.origin,
          path: `${call.target.basePath}${call.path}`,
          method: call.method,
          headers: encoded === undefined ? call.headers : { ...call.headers, 'content-type': encoded.contentType },
          body: encoded?.text,
          signal: exchange,
        },
        retryScope(call.target.kind, true, call.callerRetries),
        exchange,
        true,
      );
    } catch (error) {
      throw this.failure(error, call.target.name, exchange);
    }
  }
}
