import { All, Controller, Get, Inject, Redirect, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RelayService } from '@openai-proxy/data-access-upstream';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { type ServiceRoute, serviceRoutes } from './service-routes';

/** Headers the edge sets itself and must not take from a service. */
const EDGE_RESPONSE_HEADER_PREFIXES = ['access-control-'];

/** Forwards each provider's paths to its service over HTTP; the gateway never imports provider code. */
@Controller()
export class GatewayRoutingController {
  private readonly targets: ReadonlyMap<ServiceRoute['name'], { route: ServiceRoute; base: URL }>;

  constructor(
    private readonly relayService: RelayService,
    @Inject(GATEWAY_SETTINGS) settings: GatewaySettings,
  ) {
    this.targets = new Map(serviceRoutes(settings).map((route) => [route.name, { route, base: new URL(route.url) }]));
  }

  @Get()
  @Redirect('/docs', 307)
  @ApiExcludeEndpoint()
  root(): void {
    return undefined;
  }

  @All(['openai', 'openai/*path'])
  @ApiExcludeEndpoint()
  async openai(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.forward('openai-relay', request, response);
  }

  @All(['claude', 'claude/*path', 'anthropic', 'anthropic/*path'])
  @ApiExcludeEndpoint()
  async claude(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.forward('claude-bridge', request, response);
  }

  @All(['google', 'google/*path', 'gemini', 'gemini/*path'])
  @ApiExcludeEndpoint()
  async google(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.forward('bard-bridge', request, response);
  }

  private async forward(name: ServiceRoute['name'], request: Request, response: Response): Promise<void> {
    const target = this.targets.get(name);
    if (target === undefined) {
      throw new Error(`No route for ${name}`);
    }
    await this.relayService.relay(request, response, {
      name,
      base: target.base,
      path: request.originalUrl,
      kind: 'internal',
      dropResponseHeaderPrefixes: EDGE_RESPONSE_HEADER_PREFIXES,
    });
  }
}
