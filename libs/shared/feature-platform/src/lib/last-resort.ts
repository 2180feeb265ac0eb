import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { MetricsService } from './metrics.service';

type LastResortKind = 'uncaught_exception' | 'unhandled_rejection';

/** What the root logger's error serializer can read (a rejection reason need not be an Error). */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'non-error value');
}

/**
 * The last resort for an exception or a rejection that nothing else caught: it is logged (through the root
 * logger, whose error serializer keeps only the type, the redacted message and the code) and counted in
 * `process_last_resort_errors_total`, and the process keeps serving, because exiting would cut every other
 * client's stream on it. This is a net, not a fix: each count is a bug to find and fix where it happened.
 * Returns the function that removes the handlers.
 */
export function installLastResortHandlers(
  logger: Logger,
  metrics: MetricsService,
  target: EventEmitter = process,
): () => void {
  const report = (kind: LastResortKind, reason: unknown): void => {
    metrics.lastResortErrors.inc({ kind });
    logger.error({ err: asError(reason), kind }, 'An error reached the last-resort handler');
  };
  const onException = (error: unknown): void => report('uncaught_exception', error);
  const onRejection = (reason: unknown): void => report('unhandled_rejection', reason);
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
