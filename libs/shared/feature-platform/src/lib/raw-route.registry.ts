import { Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** One operation of a raw route as /docs lists it (`:name` path segments are parameters). */
export interface RawRouteDoc {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  summary: string;
  tag: string;
  /** The JSON Schema of the request body, when the route documents one (else any JSON object for POST). */
  requestSchema?: Readonly<Record<string, unknown>>;
  /** The JSON Schema of the success answer, when the route documents one. */
  responseSchema?: Readonly<Record<string, unknown>>;
  /** The success status (200 unless said). */
  successStatus?: number;
  /** The query parameters it reads. */
  queryParameters?: readonly string[];
  /** How a caller authenticates, for /docs: the gateway's admin token or a gateway key. */
  security?: 'admin-token' | 'gateway-key';
}

/**
 * A hot route served before Express: the relays. It gets the request as Node delivers it; the front door
 * gives it the request id, metrics, access log and error envelope that every route has.
 */
export interface RawRoute {
  /** Route pattern for metrics labels, such as `/openai/*path`. */
  label: string;
  /** Decides by the path alone (no query). */
  matches(pathname: string): boolean;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /**
   * Answers a WebSocket upgrade on the route's paths (a relay relays it as a WebSocket); resolves with the
   * status it answered (101 once switched). A route without one answers upgrades 404.
   */
  upgrade?(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<number>;
  /** The operations /docs lists for the route (the bridges' translating routes); none for a relay. */
  docs?: readonly RawRouteDoc[];
}

/**
 * The one place that decides who serves a path: the first raw route that matches it, so a declared route
 * under a relay's prefix (the billing query) is registered before that relay; no match goes to Express.
 */
@Injectable()
export class RawRouteRegistry {
  private readonly routes: RawRoute[] = [];

  register(route: RawRoute): void {
    this.routes.push(route);
  }

  /** What the raw routes add to /docs. */
  documented(): RawRouteDoc[] {
    return this.routes.flatMap((route) => route.docs ?? []);
  }

  find(pathname: string): RawRoute | undefined {
    return this.routes.find((route) => route.matches(pathname));
  }
}

/** True for the prefix itself and everything below it (`/openai`, `/openai/…`), not `/openaix`. */
export function underPrefix(pathname: string, prefix: string): boolean {
  return (
    pathname.startsWith(prefix) && (pathname.length === prefix.length || pathname.charCodeAt(prefix.length) === 47)
  );
}
