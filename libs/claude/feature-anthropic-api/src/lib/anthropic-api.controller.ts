import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ProviderCallService, RelayService, type RelayTarget } from '@openai-proxy/data-access-upstream';
import {
  AnthropicStreamTransformer,
  anthropicMessagesResponseSchema,
  anthropicModelListSchema,
  toAnthropicRequest,
  toChatCompletion,
  toGatewayError,
  toModelList,
} from '@openai-proxy/provider-anthropic';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { parseChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { anthropicHeaders, requireAnthropicKey } from './anthropic-credentials';
import { ANTHROPIC_API_SETTINGS, type AnthropicApiSettings } from './anthropic-api.settings';

const BRIDGE_NOTE_HEADER = 'x-bridge-note';

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The Anthropic Messages API behind OpenAI's chat completions and models routes. */
@ApiTags('claude')
@Controller('claude/v1')
export class AnthropicApiController {
  private readonly target: RelayTarget;

  constructor(
    private readonly calls: ProviderCallService,
    relayService: RelayService,
    @Inject(ANTHROPIC_API_SETTINGS) private readonly settings: AnthropicApiSettings,
  ) {
    this.target = relayService.target({ name: 'anthropic', baseUrl: settings.apiBase, kind: 'provider' });
  }

  @Post('chat/completions')
  @ApiOperation({ summary: 'OpenAI chat completions over the Anthropic Messages API (key as Bearer or x-api-key).' })
  async chatCompletions(@Req() request: Request, @Res() response: Response, @Body() body: unknown): Promise<void> {
    const key = requireAnthropicKey(request);
    const parsed = parseChatCompletionRequest(body);
    if ('problem' in parsed) {
      throw new GatewayException(ErrorCode.InvalidRequest, parsed.problem.message, { param: parsed.problem.param });
    }
    const { body: anthropicBody, notes } = toAnthropicRequest(parsed.request, {
      defaultMaxTokens: this.settings.defaultMaxTokens,
    });
    const noteHeaders: Record<string, string> = notes.length > 0 ? { [BRIDGE_NOTE_HEADER]: notes.join('; ') } : {};
    const stream = parsed.request.stream === true;
    const call = {
      target: this.target,
      method: 'POST' as const,
      path: '/v1/messages',
      headers: anthropicHeaders(request, key, stream ? 'text/event-stream' : 'application/json'),
      body: anthropicBody,
    };
    if (stream) {
      const transformer = new AnthropicStreamTransformer({
        createdSeconds: nowSeconds(),
        model: parsed.request.model,
        includeUsage: parsed.request.stream_options?.include_usage === true,
      });
      await this.calls.stream(call, response, transformer, toGatewayError, noteHeaders);
      return;
    }
    const answer = await this.calls.json(call, response, toGatewayError, anthropicMessagesResponseSchema);
    response.status(200).set(noteHeaders).json(toChatCompletion(answer, nowSeconds()));
  }

  @Get('models')
  @ApiOperation({ summary: 'Anthropic models as an OpenAI model list.' })
  async models(@Req() request: Request, @Res() response: Response): Promise<void> {
    const key = requireAnthropicKey(request);
    const answer = await this.calls.json(
      {
        target: this.target,
        method: 'GET',
        path: '/v1/models?limit=1000',
        headers: anthropicHeaders(request, key, 'application/json'),
      },
      response,
      toGatewayError,
      anthropicModelListSchema,
    );
    response.status(200).json(toModelList(answer));
  }
}
