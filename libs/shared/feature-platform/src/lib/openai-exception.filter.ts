import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendErrorResponse } from './error-response';
import { ROOT_LOGGER } from './platform.tokens';

/** The one error filter of the Nest routes: every error leaves as an OpenAI error envelope with its status. */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    sendErrorResponse(host.switchToHttp().getResponse<ServerResponse>(), error, this.logger);
  }
}
