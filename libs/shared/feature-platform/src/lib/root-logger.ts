import type { LoggerService } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';
import { REQUEST_ID_HEADER, redactHeaders, redactText } from '@openai-proxy/util-auth-headers';
import type { PlatformSettings } from '@openai-proxy/util-config';

const VERBOSE_LEVELS: ReadonlySet<string> = new Set(['debug', 'trace']);

interface SerializableError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
}

/**
 * Only what is safe: method, redacted URL and, at debug, the redacted headers (`secretNames` redacted too). The
 * headers are read when the line is written, after the handler ran: a key the handler moved into a configured
 * key header is in them by then.
 */
function serializeRequest(verbose: boolean, secretNames: ReadonlySet<string>) {
  return (request: IncomingMessage) => ({
    id: request.headers[REQUEST_ID_HEADER],
    method: request.method,
    url: redactText(request.url ?? ''),
    ...(verbose ? { headers: redactHeaders(request.headers, secretNames) } : {}),
  });
}

/** Never a raw error object: HTTP client errors carry request headers. */
function serializeError(error: SerializableError) {
  return {
    type: typeof error.name === 'string' ? error.name : 'Error',
    message: redactText(typeof error.message === 'string' ? error.message : ''),
    code: typeof error.code === 'string' ? error.code : undefined,
  };
}

/**
 * Standard output (or `fd`), written asynchronously: a line goes out at once when no write is in flight, and
 * what arrives meanwhile goes out together with the next write. No minimum batch size: with one, a quiet
 * service's lines waited until 4 KiB had gathered. Access lines are batched per event-loop turn upstream of
 * this (AccessLog).
 */
export function defaultLogDestination(fd = 1): DestinationStream {
  return pino.destination({ dest: fd, sync: false });
}

/** The service's one pino logger: JSON lines, redaction by header name (serializers) and value pattern (hook). */
export function createRootLogger(settings: PlatformSettings, destination: DestinationStream): Logger {
  const verbose = VERBOSE_LEVELS.has(settings.logLevel);
  const secretNames = new Set((settings.secretHeaderNames ?? []).map((name) => name.toLowerCase()));
  return pino(
    {
      level: settings.logLevel,
      base: { service: settings.serviceName },
      serializers: {
        req: serializeRequest(verbose, secretNames),
        res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
        err: serializeError,
      },
      hooks: {
        logMethod(inputs, method) {
          const cleaned = inputs.map((input: unknown) => (typeof input === 'string' ? redactText(input) : input));
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/**
 * Nest contexts that write one line per module or per route while the app starts: useful when debugging
 * routing, noise at info (a terminal showed dozens of "Mapped {/x, GET} route" lines per service).
 */
const STARTUP_DETAIL_CONTEXTS: ReadonlySet<string> = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** Nest's logger interface over the root logger (framework messages: start, errors; routes mapped at debug). */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    if (context !== undefined && STARTUP_DETAIL_CONTEXTS.has(context)) {
      this.logger.debug({ context }, String(message));
      return;
    }
    this.logger.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace: trace === undefined ? undefined : redactText(trace) }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }

  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }
}
