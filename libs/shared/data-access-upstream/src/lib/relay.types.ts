import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';

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
