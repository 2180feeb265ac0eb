import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { json } from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { PLATFORM_SETTINGS } from './platform.tokens';

/**
 * JSON bodies for the routes that parse them (the bridges), limited to `MAX_JSON_BODY_BYTES` (413 over it,
 * 400 for malformed JSON, both as OpenAI errors). Read as JSON whatever the Content-Type says, as the original
 * did (`curl -d '{…}'` sends form encoding). Relays never parse: there is no global body parser.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: ReturnType<typeof json>;

  constructor(@Inject(PLATFORM_SETTINGS) settings: PlatformSettings) {
    this.parse = json({ limit: settings.maxJsonBodyBytes, type: () => true });
  }

  use(request: Request, response: Response, next: NextFunction): void {
    this.parse(request, response, next);
  }
}
