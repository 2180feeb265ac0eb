import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';
import type { OutgoingHeaders } from '@openai-proxy/util-auth-headers';
import type { GatewayException } from '@openai-proxy/util-errors';
import type { SseEvent } from '@openai-proxy/util-sse';
import type { RetryReason } from './retry-policy';
import type { UpstreamGuard } from './upstream-guard';

/** How to reach one upstream; built once per route (RelayService.target), used for every request. */
export interface RelayTargetOptions {
  /** Short upstream name for errors and metrics (`openai`, `openai-relay`); never a URL or credential. */
  name: string;
  /** Configured base URL (may carry a path prefix); never taken from a request. */
  baseUrl: string;
  /**
   * `provider`: an external API (egress proxy applies, client cookies dropped).
   * `internal`: one of our own services (direct, cookies kept for the bridges).
   */
  kind: 'provider' | 'internal';
  /** Response header name prefixes to drop, such as `access-control-` at the edge that sets its own. */
  dropResponseHeaderPrefixes?: readonly string[];
  /**
   * How the provider's event streams end when complete, by path; a stream that ends otherwise gets an error
   * frame. Without it, only a stream cut in the middle of a frame does.
   */
  streamTerminal?: StreamTerminalRule;
}

export interface RelayTarget {
  readonly name: string;
  readonly kind: 'provider' | 'internal';
  readonly origin: string;
  /** The base URL's path without its trailing slash (often empty). */
  readonly basePath: string;
  readonly dispatcher: Dispatcher;
  /** The upstream's circuit breaker and retry budget, shared by every target of the same name. */
  readonly guard: UpstreamGuard;
  /** The agent for its WebSocket upgrades: the egress proxy's; undefined to connect directly. */
  readonly webSocketAgent?: HttpAgent;
  readonly dropResponseHeaderPrefixes: readonly string[];
  readonly streamTerminal: StreamTerminalRule | undefined;
}

/**
 * How a provider's event stream shows that it completed. A relayed stream that ends any other way (the
 * upstream closed its connection early, at a frame boundary) was cut short and gets an error frame.
 */
export interface StreamTerminal {
  /** A complete stream's last frame is this `data:` line, such as OpenAI's `[DONE]`. */
  readonly lastData?: string;
  /** A stream is complete once an event of one of these names arrived, such as Anthropic's `message_stop`. */
  readonly finalEvents?: readonly string[];
}

/**
 * Picks the terminal for a relayed path (path and query as received after the route prefix); undefined when
 * the endpoint's end is not known, and then only a stream cut in the middle of a frame counts as broken.
 */
export type StreamTerminalRule = (path: string) => StreamTerminal | undefined;

/** One attempt of a shaped relay (RelayService.relayShaped): what the caller sends upstream instead of the request. */
export interface ShapedCall {
  /** Path and query after the target's base path, as `relay` takes it (a query `key=` already removed). */
  readonly path: string;
  /** The request headers, sent as given (the client's credentials replaced by the provider key, say). */
  readonly headers: OutgoingHeaders;
  /**
   * A body read and rewritten whole (its length is set from it, any `content-length` given is dropped), or
   * `client` for the client's body streamed unchanged, as `relay` sends it. Only a Buffer body can be sent again:
   * an answer to a `client` body is the answer, whatever `accept` says.
   */
  readonly body: Buffer | 'client';
  /** Where this call goes when not to the relay's own target (a model fallback served by another service). */
  readonly target?: RelayTarget;
}

/** Where a shaped relay's attempts come from, such as a pool of provider keys. */
export interface ShapedCalls {
  /**
   * The next attempt, or undefined when none is left; asked once first, then once after each refused answer
   * (or call `failed` moved on from).
   */
  next(): ShapedCall | undefined | Promise<ShapedCall | undefined>;
  /**
   * The last call got no answer (it threw `error`: a connection error, an open circuit, a timeout): true to try
   * the next call instead, as a retry of the budget; false (or no such method) answers the error.
   */
  failed?(error: GatewayException): boolean;
  /** Why the next call is made, for the retry budget; asked just before `next` moves on (else `key_failover`). */
  nextReason?(): RetryReason;
  /**
   * True when the next call, a model fallback, goes to the upstream that failed the last one (another model of
   * the same provider): it is then a retry there, paid from that upstream's budget, not a first attempt.
   */
  nextSharesUpstream?(): boolean;
  /**
   * The failed upstream's retry budget refused the next call (another key of the same pool): true when a call of
   * another kind comes next instead (a model fallback, which the failed upstream's budget does not pay for).
   */
  skipToFallback?(): boolean;
  /**
   * The answer the attempts ended on, before anything of it reached the client: an error to answer instead (the
   * answer's body is discarded), for an answer that is not the client's to see, such as a provider refusing the
   * key the gateway holds; undefined (or no such method) sends the answer on.
   */
  answerInstead?(status: number): GatewayException | undefined;
  /**
   * The credentials the gateway itself put into the call the answer came from (a held provider key): an error
   * answer is read whole and sent without them (its body is the provider's, and may quote the key it was given).
   */
  heldSecrets?(): readonly string[];
}

/** Response headers as the upstream sent them. */
export type UpstreamHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What became of a watched relay for its client. */
export type RelayOutcome =
  /** The whole answer went out, with a status below 400. */
  | 'completed'
  /** An error status went out (ours before the first byte, or the upstream's), or the body broke after it. */
  | 'failed'
  /** The client left before its answer was complete. */
  | 'aborted';

/** How one watched relay ended, given once at its end. */
export interface RelayReport {
  /** The status the client got (the error's status when the relay threw); undefined when it left before any. */
  status: number | undefined;
  /** When the first body byte went to the client, in ms since the relay started; undefined when none did. */
  firstByteMs: number | undefined;
  outcome: RelayOutcome;
  /** The error the relay ended on: the one it threw, or what cut the body (its error frame's); none otherwise. */
  error?: GatewayException;
  /** True when the client's connection closed before its answer was complete. */
  clientLeft: boolean;
}

/**
 * What a shaped relay asks its caller and tells it, while it forwards exactly as `relay` does (timeouts,
 * heartbeats, error frames, the drain, backpressure). None of these should throw: an `onEvent` or `onBytes`
 * that does ends the answer as failed with an internal error, an `accept` or `onEnd` that does rejects the relay.
 */
export interface RelayWatcher {
  /**
   * The upstream answered this status and these headers, before anything went to the client: true takes the
   * answer; false tries the next call (this answer's body is discarded), and without one sends this answer on.
   */
  accept(status: number, headers: UpstreamHeaders): boolean;
  /**
   * False when the watcher wants no event (it drops none: a pass-through): an event stream then goes out as the
   * bytes came, not split into frames, and `onBytes` sees them. Default true.
   */
  readonly readsEvents?: boolean;
  /** An event of the event stream on its way to the client (each whole frame once): `drop` leaves it out whole. */
  onEvent(event: SseEvent): 'keep' | 'drop';
  /** Bytes of any other body (or of a compressed event stream) as they go to the client. */
  onBytes(chunk: Buffer): void;
  /** The relay ended, whichever way: called once, before `relayShaped` settles. */
  onEnd(report: RelayReport): void;
}
