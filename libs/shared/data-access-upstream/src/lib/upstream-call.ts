import type { Dispatcher } from 'undici';
import { GatewayException } from '@openai-proxy/util-errors';
import type { RelayTarget } from './relay.types';
import {
  type RetryReason,
  type RetryScope,
  retryAfterMs,
  retryDelayMs,
  retryReasonForError,
  retryReasonForStatus,
} from './retry-policy';
import type { UpstreamExchange } from './upstream-exchange';
import { type UpstreamGuard, verdictForStatus } from './upstream-guard';

/** Thrown when the client left (or the drain cap came) while a retry waited: the callers' abort handling takes it. */
function abandonedWhileWaiting(): Error {
  const error = new Error('The call was abandoned while a retry waited');
  error.name = 'AbortError';
  return error;
}

/** Waits `ms`, or less when `signal` aborts first. */
function pause(ms: number, signal: UpstreamExchange): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.off('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.once('abort', done);
  });
}

/**
 * The wait before retry number `retry` for `reason`, when one may be made: retries left, a `Retry-After` we may
 * wait for, and the budget (taken here); undefined when none may.
 */
function plannedDelay(
  guard: UpstreamGuard,
  reason: RetryReason,
  retry: number,
  retryAfter: number | undefined,
): number | undefined {
  if (retry > guard.retries) {
    return undefined;
  }
  const delay = retryDelayMs(retry, retryAfter);
  return delay === undefined || !guard.allowRetry(reason) ? undefined : delay;
}

/** Waits `delay` before the next attempt; throws when the call was abandoned meanwhile. */
async function waitToRetry(delay: number, signal: UpstreamExchange): Promise<void> {
  await pause(delay, signal);
  if (signal.aborted) {
    throw abandonedWhileWaiting();
  }
}

/**
 * One upstream call through the retry layer, before anything went to the client: each attempt passes the
 * target's breaker (503 `upstream_unavailable` at once while its circuit is open), and a failure `scope` allows
 * (retry-policy.ts) is tried again after its backoff, within the retries and the budget; otherwise the answer
 * is returned, whatever its status, or the attempt's error is thrown as it came (the caller classifies it).
 * `first`: this is the request's first call, counted by the budget (a key failover is a retry, already paid).
 */
export async function requestUpstream(
  target: RelayTarget,
  options: Dispatcher.RequestOptions,
  scope: RetryScope,
  signal: UpstreamExchange,
  first: boolean,
): Promise<Dispatcher.ResponseData> {
  const guard = target.guard;
  if (first) {
    guard.budget.recordFirst();
  }
  for (let retry = 1; ; retry += 1) {
    const pass = guard.enter();
    let answer: Dispatcher.ResponseData;
    try {
      answer = await target.dispatcher.request(options);
    } catch (error) {
      const abandoned = signal.aborted || error instanceof GatewayException;
      pass.settle(abandoned ? 'abandoned' : 'failed');
      const reason = abandoned || scope === 'none' ? undefined : retryReasonForError(error);
      const delay = reason === undefined ? undefined : plannedDelay(guard, reason, retry, undefined);
      if (delay === undefined) {
        throw error;
      }
      await waitToRetry(delay, signal);
      continue;
    }
    pass.settle(verdictForStatus(target.kind, answer.statusCode));
    const reason = scope === 'all' ? retryReasonForStatus(answer.statusCode) : undefined;
    if (reason === undefined) {
      return answer;
    }
    const delay = plannedDelay(guard, reason, retry, retryAfterMs(answer.headers['retry-after']));
    if (delay === undefined) {
      return answer;
    }
    // The refused answer's body is read to its end, so that its connection serves the retry.
    await answer.body.dump().catch(() => undefined);
    await waitToRetry(delay, signal);
  }
}
