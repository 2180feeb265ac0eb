import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { redactText } from '@openai-proxy/util-auth-headers';
import { AccessLog } from './access-log';
import { answerClientErrors } from './client-error';
import { answerExpectContinue, installFrontDoor } from './front-door';
import { installLastResortHandlers } from './last-resort';
import { MetricsService } from './metrics.service';
import { ROOT_LOGGER } from './platform.tokens';
import { withRawRouteDocs } from './raw-route.docs';
import { RawRouteRegistry } from './raw-route.registry';
import { RequestTracker } from './request-tracker.service';
import { PinoNestLogger } from './root-logger';
import { ShutdownService } from './shutdown.service';

/**
 * How far V8 lets the old generation grow past what survived the last full collection: 1.5x instead of its
 * default of up to 4x. What survives in a service is mostly its loaded code (about 23 MB), so under load the
 * heap reached about 90 MB before each full collection. Measured (openai-relay, instant JSON at 32
 * connections): peak RSS 147 MB instead of 192-220 MB, for about 4% more GC work (callgrind, all threads).
 */
const HEAP_GROWING_PERCENT = 50;

/** Applies HEAP_GROWING_PERCENT unless the process was started with its own `--heap-growing-percent`. */
function limitHeapGrowth(): void {
  if (!process.execArgv.some((flag) => flag.replaceAll('_', '-').startsWith('--heap-growing-percent'))) {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  }
}

/** Above every common load balancer idle timeout (60 s), so the balancer closes first. */
const SERVER_KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface ServiceDescription {
  title: string;
  description: string;
}

/** The route pattern Express matched (`req.route` is unset when no route matched). */
function expressRouteLabel(request: Request): string {
  const route = request.route as { path?: unknown } | undefined;
  const path = route?.path;
  if (typeof path === 'string') {
    return path;
  }
  return Array.isArray(path) ? path.join('|') : 'unmatched';
}

/**
 * Creates a service app the same way for `main.ts` and for tests: the raw relay routes in front of Express,
 * no global body parser (relays stream bodies; JSON routes parse their own with a limit), trust-proxy from
 * settings, request tracking on every route, requests the HTTP parser refuses answered as OpenAI errors, /docs.
 */
export async function createServiceApp(
  module: DynamicModule,
  settings: PlatformSettings,
  description: ServiceDescription,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
    // `close()` runs after the drain (shutdownServiceApp): whatever connection is left then is cut.
    forceCloseConnections: true,
  });
  const logger = app.get<Logger>(ROOT_LOGGER);
  const tracker = app.get(RequestTracker);
  app.useLogger(new PinoNestLogger(logger));
  app.set('trust proxy', settings.trustProxy);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((request: Request, response: Response, next: NextFunction) => {
    tracker.begin(request, response, () => expressRouteLabel(request));
    next();
  });
  const server: Server = app.getHttpServer();
  installFrontDoor(server, app.get(RawRouteRegistry), tracker, logger);
  answerClientErrors(server);
  answerExpectContinue(server, settings.maxRelayBodyBytes);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(description.title).setDescription(description.description).build(),
  );
  const registry = app.get(RawRouteRegistry);
  // A factory: the raw routes register when the modules initialise, after this document was made.
  SwaggerModule.setup('docs', app, () => withRawRouteDocs(document, registry.documented()), {
    jsonDocumentUrl: 'docs/openapi.json',
  });
  return app;
}

/** Listens with server timeouts fit for long streams: keep-alive above 60 s, no total request deadline. */
export async function listenServiceApp(app: NestExpressApplication, port: number, host?: string): Promise<Server> {
  const server = app.getHttpServer();
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = SERVER_KEEP_ALIVE_TIMEOUT_MS + 1_000;
  server.requestTimeout = 0;
  if (host === undefined) {
    await app.listen(port);
  } else {
    await app.listen(port, host);
  }
  return server;
}

/** SIGTERM/SIGINT: fail readiness, drain in-flight work up to the cap, end the rest, close, exit 0. */
export async function shutdownServiceApp(app: NestExpressApplication, settings: PlatformSettings): Promise<void> {
  const server = app.getHttpServer();
  const accessLog = app.get(AccessLog);
  try {
    await app.get(ShutdownService).drain(server, settings.shutdownDrainMs);
    await app.close();
  } finally {
    accessLog.flush();
  }
}

/**
 * The process-level handlers of a running service: SIGTERM/SIGINT start the shutdown, and the last-resort
 * handlers log and count an error nothing else caught instead of letting it end the process.
 */
export function installShutdownSignals(app: NestExpressApplication, settings: PlatformSettings): void {
  installLastResortHandlers(app.get<Logger>(ROOT_LOGGER), app.get(MetricsService));
  let started = false;
  const onSignal = (): void => {
    if (started) {
      return;
    }
    started = true;
    shutdownServiceApp(app, settings).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** Runs a service's start; a bad configuration or a failed start prints why and exits 1. */
export function runMain(start: () => Promise<void>): void {
  limitHeapGrowth();
  start().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${redactText(message)}\n`);
    process.exit(1);
  });
}
