import { Body, Controller, Logger, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ProviderCallService } from '@openai-proxy/data-access-upstream';
import {
  ClaudeWebStreamTransformer,
  buildClaudeWebPrompt,
  chooseClaudeWebModel,
} from '@openai-proxy/provider-claude-web';
import { readBearerToken } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { chunksToCompletion, parseChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { claudeWebError, missingSessionKey } from './claude-web.errors';
import { ClaudeWebService, claudeWebHeaders } from './claude-web.service';

/** The timezone the original sent with every prompt. */
const TIMEZONE = 'Asia/Shanghai';

/** OpenAI chat completions over claude.ai, as the original proxy offered them (docs/legacy-routes.md); session key as Bearer. */
@ApiTags('claude.ai')
@Controller('claude')
export class ClaudeWebCompletionsController {
  private readonly logger = new Logger(ClaudeWebCompletionsController.name);

  constructor(
    private readonly claude: ClaudeWebService,
    private readonly calls: ProviderCallService,
  ) {}

  @Post(':org/v1/chat/completions')
  @ApiOperation({
    summary: 'OpenAI-style over claude.ai: a fresh conversation per call (deleted after, when auto-delete is on).',
  })
  async fresh(
    @Param('org') org: string,
    @Body() body: unknown,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const sessionKey = this.sessionKey(request);
    const prepared = this.prepare(body);
    const conversation = await this.claude.createConversation(
      org,
      sessionKey,
      `${this.claude.settings.defaultConversationName}-${Date.now()}`,
    );
    try {
      await this.answer(org, conversation, sessionKey, prepared, response);
    } finally {
      if (this.claude.settings.autoDeleteConversation) {
        await this.claude.deleteConversation(org, sessionKey, conversation).catch(() => {
          this.logger.warn('Could not delete the conversation this call created');
        });
      }
    }
  }

  @Post(':org/:conversation/v1/chat/completions')
  @ApiOperation({ summary: 'OpenAI-style over claude.ai in the given conversation (claude.ai keeps its history).' })
  async inConversation(
    @Param('org') org: string,
    @Param('conversation') conversation: string,
    @Body() body: unknown,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await this.answer(org, conversation, this.sessionKey(request), this.prepare(body), response);
  }

  private sessionKey(request: Request): string {
    const key = readBearerToken(request.headers);
    if (key === undefined) {
      throw missingSessionKey('bearer');
    }
    return key;
  }

  private prepare(body: unknown): { prompt: string; model: string; stream: boolean } {
    const parsed = parseChatCompletionRequest(body);
    if ('problem' in parsed) {
      throw new GatewayException(ErrorCode.InvalidRequest, parsed.problem.message, { param: parsed.problem.param });
    }
    return {
      prompt: buildClaudeWebPrompt(parsed.request.messages),
      model: chooseClaudeWebModel(parsed.request.model, this.claude.settings.webModel),
      stream: parsed.request.stream === true,
    };
  }

  private async answer(
    org: string,
    conversation: string,
    sessionKey: string,
    prepared: { prompt: string; model: string; stream: boolean },
    response: Response,
  ): Promise<void> {
    const call = {
      target: this.claude.target,
      method: 'POST' as const,
      path: '/append_message',
      headers: claudeWebHeaders(sessionKey, 'text/event-stream'),
      body: {
        completion: { prompt: prepared.prompt, timezone: TIMEZONE, model: prepared.model },
        organization_uuid: org,
        conversation_uuid: conversation,
        text: prepared.prompt,
        attachments: [],
      },
    };
    const identity = {
      id: `chatcmpl-${randomUUID()}`,
      createdSeconds: Math.floor(Date.now() / 1000),
      model: prepared.model,
    };
    const transformer = new ClaudeWebStreamTransformer(identity);
    if (prepared.stream) {
      await this.calls.stream(call, response, transformer, claudeWebError);
      return;
    }
    const chunks = await this.calls.collect(call, response, transformer, claudeWebError);
    response
      .status(200)
      .json(chunksToCompletion(chunks, { id: identity.id, model: identity.model, created: identity.createdSeconds }));
  }
}
