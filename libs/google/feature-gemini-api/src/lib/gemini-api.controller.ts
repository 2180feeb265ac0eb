import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ProviderCallService, RelayService, type RelayTarget } from '@openai-proxy/data-access-upstream';
import {
  GeminiStreamTransformer,
  geminiModelListSchema,
  geminiModelName,
  geminiResponseSchema,
  toChatCompletion,
  toGatewayError,
  toGeminiRequest,
  toModelList,
} from '@openai-proxy/provider-gemini';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { parseChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';
import { geminiCredentialHeaders } from './gemini-credentials';

/** The client's Gemini credential in the header that fits it, and nothing else the client sent. */
function geminiHeaders(request: Request, accept: string): Record<string, string> {
  return { ...geminiCredentialHeaders(request), accept, 'accept-encoding': 'identity' };
}

/** Gemini behind OpenAI's chat completions and models routes. */
@ApiTags('google')
@Controller('google/v1')
export class GeminiApiController {
  private readonly target: RelayTarget;

  constructor(
    private readonly calls: ProviderCallService,
    relayService: RelayService,
    @Inject(GEMINI_API_SETTINGS) settings: GeminiApiSettings,
  ) {
    this.target = relayService.target({ name: 'gemini', baseUrl: settings.apiBase, kind: 'provider' });
  }

  @Post('chat/completions')
  @ApiOperation({
    summary: 'OpenAI chat completions over the Gemini API (key as Bearer or x-goog-api-key, never in a URL).',
  })
  async chatCompletions(@Req() request: Request, @Res() response: Response, @Body() body: unknown): Promise<void> {
    const stream = (body as { stream?: unknown } | undefined)?.stream === true;
    const headers = geminiHeaders(request, stream ? 'text/event-stream' : 'application/json');
    const parsed = parseChatCompletionRequest(body);
    if ('problem' in parsed) {
      throw new GatewayException(ErrorCode.InvalidRequest, parsed.problem.message, { param: parsed.problem.param });
    }
    const model = geminiModelName(parsed.request.model);
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const call = {
      target: this.target,
      method: 'POST' as const,
      path: `/v1beta/models/${encodeURIComponent(model)}:${method}`,
      headers,
      body: toGeminiRequest(parsed.request),
    };
    const id = randomUUID().replace(/-/g, '');
    const createdSeconds = Math.floor(Date.now() / 1000);
    if (stream) {
      const transformer = new GeminiStreamTransformer({
        id,
        createdSeconds,
        model,
        includeUsage: parsed.request.stream_options?.include_usage === true,
        candidates: parsed.request.n ?? 1,
      });
      await this.calls.stream(call, response, transformer, toGatewayError);
      return;
    }
    const answer = await this.calls.json(call, response, toGatewayError, geminiResponseSchema);
    response.status(200).json(toChatCompletion(answer, model, createdSeconds, id));
  }

  @Get('models')
  @ApiOperation({ summary: 'Gemini models as an OpenAI model list (ids without the models/ prefix).' })
  async models(@Req() request: Request, @Res() response: Response): Promise<void> {
    const answer = await this.calls.json(
      {
        target: this.target,
        method: 'GET',
        path: '/v1beta/models?pageSize=1000',
        headers: geminiHeaders(request, 'application/json'),
      },
      response,
      toGatewayError,
      geminiModelListSchema,
    );
    response.status(200).json(toModelList(answer));
  }
}
