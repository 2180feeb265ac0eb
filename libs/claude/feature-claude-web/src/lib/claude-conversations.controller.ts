import { Body, Controller, Delete, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ProviderCallService } from '@openai-proxy/data-access-upstream';
import { ClaudeWebStreamEndWatch, ClaudeWebStreamTransformer } from '@openai-proxy/provider-claude-web';
import { readCookie } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { claudeWebError, missingSessionKey } from './claude-web.errors';
import { ClaudeWebService, type WebAnswer, claudeWebHeaders } from './claude-web.service';

function sessionFromCookie(request: Request): string {
  const key = readCookie(request.headers, 'sessionKey');
  if (key === undefined || key === '') {
    throw missingSessionKey('cookie');
  }
  return key;
}

/**
 * Passes claude.ai's answer on with its status; a refusal that is not JSON (a Cloudflare page) keeps its
 * status in a JSON error; a success that is not JSON is a 502.
 */
function sendAnswer(response: Response, answer: WebAnswer): void {
  if (answer.json === undefined) {
    if (answer.text === '' && answer.status < 300) {
      response.status(answer.status).end();
      return;
    }
    if (answer.status >= 400) {
      throw claudeWebError(answer.status, undefined, answer.retryAfter);
    }
    throw new GatewayException(
      ErrorCode.UpstreamBadResponse,
      `claude.ai answered ${answer.status} with something that is not JSON`,
    );
  }
  response.status(answer.status).json(answer.json);
}

/**
 * Delete-all is asked for by its exact path only. Express routes `…/chat_conversations/` here too, and that is
 * what a delete of one conversation looks like when its id is empty: a trailing slash must not widen a delete
 * to every conversation.
 */
function requireExactDeleteAllPath(request: Request, org: string): void {
  if (request.path.endsWith('/')) {
    const base = `/claude/organizations/${org}/chat_conversations`;
    throw new GatewayException(
      ErrorCode.InvalidRequest,
      `Missing conversation id: DELETE ${base}/<uuid> deletes one conversation, DELETE ${base} (no trailing slash) deletes all of them`,
    );
  }
}

/** claude.ai's own routes as the original proxy served them (docs/legacy-routes.md), session key in `Cookie: sessionKey=`. */
@ApiTags('claude.ai')
@Controller('claude')
export class ClaudeConversationsController {
  constructor(
    private readonly claude: ClaudeWebService,
    private readonly calls: ProviderCallService,
  ) {}

  @Get('organizations/:org/chat_conversations')
  @ApiOperation({ summary: 'List conversations (claude.ai answer and status passed through).' })
  async list(@Param('org') org: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    sendAnswer(
      response,
      await this.claude.callFor(response, 'GET', this.claude.conversationsPath(org), sessionFromCookie(request)),
    );
  }

  @Post('organizations/:org/chat_conversations')
  @ApiOperation({ summary: 'Create a conversation: {"name", "uuid"?}; an empty name takes the default name.' })
  async create(
    @Param('org') org: string,
    @Body() body: unknown,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const input = (typeof body === 'object' && body !== null ? body : {}) as { name?: unknown; uuid?: unknown };
    if (input.name === undefined) {
      throw new GatewayException(ErrorCode.InvalidRequest, 'Missing parameter: name', { param: 'name' });
    }
    const name =
      typeof input.name === 'string' && input.name !== '' ? input.name : this.claude.settings.defaultConversationName;
    const uuid = typeof input.uuid === 'string' && input.uuid !== '' ? input.uuid : randomUUID();
    sendAnswer(
      response,
      await this.claude.callFor(response, 'POST', this.claude.conversationsPath(org), sessionFromCookie(request), {
        uuid,
        name,
      }),
    );
  }

  @Delete('organizations/:org/chat_conversations')
  @ApiOperation({ summary: 'Delete every conversation of the organization, one after another; answers "success".' })
  async deleteAll(@Param('org') org: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    requireExactDeleteAllPath(request, org);
    const sessionKey = sessionFromCookie(request);
    await this.claude.exchange(response, async ({ signal }) => {
      const listed = await this.claude.call('GET', this.claude.conversationsPath(org), sessionKey, { signal });
      if (listed.status < 200 || listed.status >= 300 || !Array.isArray(listed.json)) {
        sendAnswer(
          response,
          listed.status >= 300 ? listed : { ...listed, status: 200, json: undefined, text: 'not a list' },
        );
        return;
      }
      for (const conversation of listed.json as Array<{ uuid?: unknown }>) {
        if (typeof conversation.uuid === 'string') {
          await this.claude.deleteConversation(org, sessionKey, conversation.uuid, signal);
        }
      }
      response.status(200).json('success');
    });
  }

  @Get('organizations/:org/chat_conversations/:conversation')
  @ApiOperation({ summary: 'One conversation with its messages.' })
  async get(
    @Param('org') org: string,
    @Param('conversation') conversation: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    sendAnswer(
      response,
      await this.claude.callFor(
        response,
        'GET',
        this.claude.conversationsPath(org, conversation),
        sessionFromCookie(request),
      ),
    );
  }

  @Delete('organizations/:org/chat_conversations/:conversation')
  @ApiOperation({ summary: 'Delete one conversation (claude.ai status passed through).' })
  async deleteOne(
    @Param('org') org: string,
    @Param('conversation') conversation: string,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    sendAnswer(
      response,
      await this.claude.callFor(
        response,
        'DELETE',
        this.claude.conversationsPath(org, conversation),
        sessionFromCookie(request),
      ),
    );
  }

  @Post('append_message')
  @ApiOperation({
    summary: 'Send a message: text/event-stream clients get claude.ai events as they come, others the joined text.',
  })
  async append(@Body() body: unknown, @Req() request: Request, @Res() response: Response): Promise<void> {
    await this.send('/append_message', body, request, response);
  }

  @Post('retry_message')
  @ApiOperation({ summary: 'Regenerate the last answer (same forms as append_message).' })
  async retry(@Body() body: unknown, @Req() request: Request, @Res() response: Response): Promise<void> {
    await this.send('/retry_message', body, request, response);
  }

  private async send(path: string, body: unknown, request: Request, response: Response): Promise<void> {
    const sessionKey = sessionFromCookie(request);
    if (typeof body !== 'object' || body === null) {
      throw new GatewayException(
        ErrorCode.InvalidRequest,
        'The body must be a JSON object (send Content-Type: application/json)',
        { param: 'body' },
      );
    }
    const call = {
      target: this.claude.target,
      method: 'POST' as const,
      path,
      headers: claudeWebHeaders(sessionKey, 'text/event-stream'),
      body,
    };
    if ((request.headers.accept ?? '').includes('text/event-stream')) {
      // The events go through untouched; the watch only tells a complete stream from a cut one.
      await this.calls.passThrough(call, response, claudeWebError, new ClaudeWebStreamEndWatch());
      return;
    }
    const transformer = new ClaudeWebStreamTransformer({ id: 'raw', createdSeconds: 0, model: '' });
    const chunks = await this.calls.collect(call, response, transformer, claudeWebError);
    response
      .status(200)
      .type('text/plain')
      .set('cache-control', 'no-cache, no-transform')
      .send(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''));
  }
}
