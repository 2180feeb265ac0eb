import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ProviderPipeline } from '@openai-proxy/data-access-upstream';
import { geminiAdapter } from './gemini.adapter';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';

/** Gemini behind OpenAI's chat completions and models routes. */
@ApiTags('google')
@Controller('google/v1')
export class GeminiApiController {
  private readonly adapter: ReturnType<typeof geminiAdapter>;

  constructor(
    private readonly pipeline: ProviderPipeline,
    @Inject(GEMINI_API_SETTINGS) settings: GeminiApiSettings,
  ) {
    this.adapter = geminiAdapter(settings);
  }

  @Post('chat/completions')
  @ApiOperation({
    summary: 'OpenAI chat completions over the Gemini API (key as Bearer or x-goog-api-key, never in a URL).',
  })
  async chatCompletions(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.pipeline.serve(this.adapter, 'chat', request, response);
  }

  @Get('models')
  @ApiOperation({ summary: 'Gemini models as an OpenAI model list (ids without the models/ prefix).' })
  async models(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.pipeline.serve(this.adapter, 'models', request, response);
  }
}
