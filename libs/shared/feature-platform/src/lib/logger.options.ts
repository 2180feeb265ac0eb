import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { REQUEST_ID_HEADER, redactHeaders, redactText } from '@openai-proxy/util-auth-headers';
import type { PlatformSettings } from '@openai-proxy/util-config';

const VERBOSE_LEVELS: ReadonlySet<string> = new Set(['debug', 'trace']);

interface SerializableError {
  type?: unknown;
  message?: unknown;
  code?: unknown;
}

/** Logs only what is safe: the method, the redacted URL and, at debug, the redacted headers. */
function serializeRequest(verbose: boolean) {
  return (request: IncomingMessage & { originalUrl?: string }) => ({
    id: request.headers[REQUEST_ID_HEADER],
    method: request.method,
    url: redactText(request.originalUrl ?? request.url ?? ''),
    ...(verbose ? { headers: redactHeaders(request.headers) } : {}),
  });
}

/** Never a raw error object: HTTP client errors carry request headers. */
function serializeError(error: SerializableError) {
  return {
    type: typeof error.type === 'string' ? error.type : 'Error',
    message: redactText(typeof error.message === 'string' ? error.message : ''),
    code: typeof error.code === 'string' ? error.code : undefined,
  };
}

/** pino-http settings: JSON lines, request id from our header, redaction by header name and value pattern. */
export function createLoggerParams(settings: PlatformSettings, destination?: DestinationStream): Params {
  const verbose = VERBOSE_LEVELS.has(settings.logLevel);
  return {
    pinoHttp: [
      {
        level: settings.logLevel,
        base: { service: settings.serviceName },
        genReqId: (request: IncomingMessage) => String(request.headers[REQUEST_ID_HEADER] ?? ''),
        serializers: {
          req: serializeRequest(verbose),
          res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
          err: serializeError,
        },
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[REDACTED]' },
        hooks: {
          logMethod(inputs, method) {
            const cleaned = inputs.map((input: unknown) => (typeof input === 'string' ? redactText(input) : input));
            method.apply(this, cleaned as Parameters<typeof method>);
          },
        },
        autoLogging: { ignore: (request: IncomingMessage) => request.url === '/healthz' || request.url === '/readyz' },
      },
      destination ?? process.stdout,
    ],
  };
}
