import type { ServerResponse } from 'node:http';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

/**
 * Answers what a spec's bridge failed on in the OpenAI error envelope (anything not a GatewayException as
 * internal); once the headers went out, it only ends the body with the envelope.
 */
export function answerError(response: ServerResponse, error: unknown): void {
  const exception = error instanceof GatewayException ? error : new GatewayException(ErrorCode.Internal, 'internal');
  if (!response.headersSent) {
    response.writeHead(exception.status, { 'content-type': 'application/json' });
  }
  response.end(JSON.stringify(exception.toEnvelope()));
}
