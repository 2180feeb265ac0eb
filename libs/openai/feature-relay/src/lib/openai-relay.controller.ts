import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RelayService } from '@openai-proxy/data-access-upstream';
import { OPENAI_RELAY_SETTINGS, type OpenAiRelaySettings } from './openai-relay.settings';

const PREFIX = '/openai';

/** `ANY /openai/**` → `OPENAI_API_BASE/**`, query kept, bytes untouched. */
@Controller()
export class OpenAiRelayController {
  private readonly base: URL;

  constructor(
    private readonly relayService: RelayService,
    @Inject(OPENAI_RELAY_SETTINGS) settings: OpenAiRelaySettings,
  ) {
    this.base = new URL(settings.apiBase);
  }

  @All(['openai', 'openai/*path'])
  @ApiExcludeEndpoint()
  async relay(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.relayService.relay(request, response, {
      name: 'openai',
      base: this.base,
      path: request.originalUrl.slice(PREFIX.length),
      kind: 'provider',
    });
  }
}
