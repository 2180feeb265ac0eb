import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import { REQUEST_ID_HEADER, redactText } from '@openai-proxy/util-auth-headers';

/** What the access line reads of a response (a WebSocket upgrade has no ServerResponse, only these two). */
export type LoggedResponse = Pick<ServerResponse, 'statusCode' | 'writableFinished'>;

/**
 * One line per request, in the root logger's format and destination. At `info` the line is built directly
 * (pino's generic serialization of the request and response objects cost as much as relaying the request
 * did) and the lines of one event-loop turn reach the destination in one write (pino's destination measures
 * its whole pending buffer on every write: one write per line cost ~10 us per request under load); at `debug`
 * and `trace` it goes through the logger, whose request serializer adds redacted headers.
 */
export class AccessLog {
  /** `,"service":…`: the base bindings the root logger writes after `time`. */
  private readonly bindings: string;
  private pending = '';
  private flushScheduled = false;

  constructor(
    private readonly logger: Logger,
    private readonly destination: DestinationStream,
    serviceName: string,
  ) {
    this.bindings = `,"service":${JSON.stringify(serviceName)}`;
  }

  record(request: IncomingMessage, response: LoggedResponse, milliseconds: number): void {
    const complete = response.writableFinished;
    const message = complete ? 'request completed' : 'request aborted';
    const responseTime = Math.round(milliseconds);
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.info({ req: request, res: response, responseTime, aborted: !complete || undefined }, message);
      return;
    }
    if (!this.logger.isLevelEnabled('info')) {
      return;
    }
    const id = request.headers[REQUEST_ID_HEADER];
    this.pending +=
      `{"level":30,"time":${Date.now()}${this.bindings},"req":{"id":${JSON.stringify(id ?? null)},` +
      `"method":${JSON.stringify(request.method ?? null)},"url":${JSON.stringify(redactText(request.url ?? ''))}},` +
      `"res":{"statusCode":${response.statusCode}},"responseTime":${responseTime}` +
      `${complete ? '' : ',"aborted":true'},"msg":"${message}"}\n`;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Hands the pending lines to the destination (at the end of each event-loop turn, and at shutdown). */
  readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pending.length > 0) {
      const lines = this.pending;
      this.pending = '';
      this.destination.write(lines);
    }
  };
}
