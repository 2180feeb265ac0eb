import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type ProviderAdapter, ProviderPipeline } from '@openai-proxy/data-access-upstream';
import { type AnthropicOperation, anthropicAdapter } from './anthropic.adapter';
import { ANTHROPIC_API_SETTINGS, type AnthropicApiSettings } from './anthropic-api.settings';

/** The Anthropic Messages API behind OpenAI's chat completions and models routes. */
@ApiTags('claude')
@Controller('claude/v1')
export class AnthropicApiController {
  private readonly adapter: ProviderAdapter<string, AnthropicOperation>;

  constructor(
    private readonly pipeline: ProviderPipeline,
    @Inject(ANTHROPIC_API_SETTINGS) settings: AnthropicApiSettings,
  ) {
    this.adapter = anthropicAdapter(settings);
  }

  @Post('chat/completions')
  @ApiOperation({ summary: 'OpenAI chat completions over the Anthropic Messages API (key as Bearer or x-api-key).' })
  async chatCompletions(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.pipeline.serve(this.adapter, 'chat', request, response);
  }

  @Get('models')
  @ApiOperation({ summary: 'Anthropic models as an OpenAI model list.' })
  async models(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.pipeline.serve(this.adapter, 'models', request, response);
  }
}
