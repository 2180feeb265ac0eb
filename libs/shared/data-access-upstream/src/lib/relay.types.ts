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
}

export interface RelayTarget {
  readonly name: string;
  readonly kind: 'provider' | 'internal';
  readonly origin: string;
  /** The base URL's path without its trailing slash (often empty). */
  readonly basePath: string;
  readonly dispatcher: Dispatcher;
  readonly dropResponseHeaderPrefixes: readonly string[];
}
