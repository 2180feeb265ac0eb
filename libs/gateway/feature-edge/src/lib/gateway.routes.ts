import { Controller, Get, Inject, Injectable, type OnModuleInit, Redirect } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawRoute, RawRouteRegistry, pathnameOf, underPrefix } from '@openai-proxy/feature-platform';
import { RelayService, type RelayTarget, type RouteSink, WebSocketRelay } from '@openai-proxy/data-access-upstream';
import { TeamGate, TeamRoutes } from '@openai-proxy/gateway-feature-team';
import { CorsPolicy } from './cors.middleware';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { RateLimitPolicy } from './rate-limit.middleware';
import { compatibleProviderRoutes, serviceRoutes } from './service-routes';

/** Headers the edge sets itself and must not take from a service. */
const EDGE_RESPONSE_HEADER_PREFIXES = ['access-control-'];

/**
 * Forwards each provider's paths to its service over HTTP, paths unchanged (the gateway never imports provider
 * code). Raw routes ahead of Express, with the edge's CORS and rate limit applied first.
 */
@Injectable()
export class GatewayRoutes implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly relayService: RelayService,
    private readonly webSocketRelay: WebSocketRelay,
    private readonly cors: CorsPolicy,
    private readonly rateLimit: RateLimitPolicy,
    private readonly teamGate: TeamGate,
    private readonly teamRoutes: TeamRoutes,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  onModuleInit(): void {
    const gatewayKeys = this.teamRoutes.gatewayKeysAccepted;
    for (const route of [...serviceRoutes(this.settings), ...compatibleProviderRoutes(this.settings)]) {
      const target = this.relayService.target({
        name: route.name,
        baseUrl: route.url,
        kind: 'internal',
        dropResponseHeaderPrefixes: EDGE_RESPONSE_HEADER_PREFIXES,
      });
      const label = route.prefixes.map((prefix) => `/${prefix}/*path`).join('|');
      this.registry.register({
        label,
        matches: (pathname) => route.prefixes.some((prefix) => underPrefix(pathname, `/${prefix}`)),
        handle: gatewayKeys
          ? (request, response) => this.forwardWithKeys(request, response, target)
          : (request, response) => this.forward(request, response, target),
        // A WebSocket on any forwarded prefix goes to the owning service as one (it answers 404 if it relays none).
        upgrade: (request, socket, head) => this.forwardUpgrade(request, socket, head, target, gatewayKeys),
      });
    }
    // After the forwarded prefixes, which most requests take: the team routes' paths (/v1, /admin, /dashboard)
    // are names no provider may take, so the order changes no answer, only how soon a relay is found.
    this.teamRoutes.register(this.edgeSink());
  }

  private async forward(request: IncomingMessage, response: ServerResponse, target: RelayTarget): Promise<void> {
    if (this.cors.apply(request, response)) {
      return;
    }
    const url = request.url ?? '/';
    await this.rateLimit.admit(request, response, pathnameOf(url));
    await this.relayService.relay(request, response, target, url);
  }

  /** With gateway keys accepted: the same edge, then TeamGate passes the request through or meters it. */
  private async forwardWithKeys(
    request: IncomingMessage,
    response: ServerResponse,
    target: RelayTarget,
  ): Promise<void> {
    if (this.cors.apply(request, response)) {
      return;
    }
    const url = request.url ?? '/';
    await this.rateLimit.admit(request, response, pathnameOf(url));
    await this.teamGate.forwardNative(request, response, target, url);
  }

  /** Team routes get the edge's CORS and rate limit, like the forwarded prefixes. */
  private edgeSink(): RouteSink {
    return {
      register: (route: RawRoute) => {
        this.registry.register({
          ...route,
          handle: async (request, response) => {
            if (this.cors.apply(request, response)) {
              return;
            }
            await this.rateLimit.admit(request, response, pathnameOf(request.url ?? '/'));
            await route.handle(request, response);
          },
        });
      },
    };
  }

  /** An upgrade: rate limited like a request (CORS does not apply to WebSockets), then relayed as a WebSocket. */
  private async forwardUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: RelayTarget,
    gatewayKeys: boolean,
  ): Promise<number> {
    const url = request.url ?? '/';
    await this.rateLimit.admit(request, undefined, pathnameOf(url));
    if (!gatewayKeys) {
      return this.webSocketRelay.relay(request, socket, head, target, url);
    }
    const admitted = await this.teamGate.admitUpgrade(request, url);
    return this.webSocketRelay.relay(request, socket, head, target, admitted.url, admitted.hooks);
  }
}

/** `GET /` → `/docs`. */
@Controller()
export class RootController {
  @Get()
  @Redirect('/docs', 307)
  @ApiExcludeEndpoint()
  root(): void {
    return undefined;
  }
}
