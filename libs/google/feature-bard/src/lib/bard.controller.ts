import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { readCookie } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { type BardCookies, BardService } from './bard.service';

function readCookies(request: Request): BardCookies {
  const psid = readCookie(request.headers, '__Secure-1PSID');
  const psidts = readCookie(request.headers, '__Secure-1PSIDTS');
  const missing = [
    psid === undefined || psid === '' ? '__Secure-1PSID' : '',
    psidts === undefined || psidts === '' ? '__Secure-1PSIDTS' : '',
  ].filter(Boolean);
  if (missing.length > 0 || psid === undefined || psidts === undefined) {
    throw new GatewayException(
      ErrorCode.MissingCredentials,
      `Missing Bard cookie(s): ${missing.join(', ')} (send them in the Cookie header)`,
    );
  }
  return { psid, psidts };
}

/** `POST /google/bard`: `{"prompt", "conversationId"?}` with the two Google cookies; the answer is a bare JSON string. */
@ApiTags('google')
@Controller('google')
export class BardController {
  constructor(private readonly bard: BardService) {}

  @Post('bard')
  @ApiOperation({ summary: 'Bard through browser cookies; a conversationId continues that conversation.' })
  async ask(@Body() body: unknown, @Req() request: Request, @Res() response: Response): Promise<void> {
    const cookies = readCookies(request);
    const input = (typeof body === 'object' && body !== null ? body : {}) as {
      prompt?: unknown;
      conversationId?: unknown;
    };
    if (typeof input.prompt !== 'string' || input.prompt === '') {
      throw new GatewayException(ErrorCode.InvalidRequest, 'prompt is required (a non-empty string)', {
        param: 'prompt',
      });
    }
    const conversationId =
      typeof input.conversationId === 'string' && input.conversationId !== '' ? input.conversationId : undefined;
    const answer = await this.bard.ask(cookies, input.prompt, conversationId, response);
    response.status(200).json(answer);
  }
}
