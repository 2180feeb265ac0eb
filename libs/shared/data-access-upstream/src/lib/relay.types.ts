/** Where and how a transparent relay sends one request. */
export interface RelayTarget {
  /** Short upstream name for errors and metrics (`openai`, `openai-relay`); never a URL or credential. */
  name: string;
  /** Configured base URL (may carry a path prefix); never taken from the request. */
  base: URL;
  /** Path and query to append to the base path, starting with `/` (or empty). */
  path: string;
  /**
   * `provider`: an external API (egress proxy applies, client cookies dropped).
   * `internal`: one of our own services (direct, cookies kept for the bridges).
   */
  kind: 'provider' | 'internal';
  /** Response header name prefixes to drop, such as `access-control-` at the edge that sets its own. */
  dropResponseHeaderPrefixes?: readonly string[];
}
