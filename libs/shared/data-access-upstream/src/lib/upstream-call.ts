import type { Dispatcher } from 'undici';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import type { RelayTarget } from './relay.types';
import {
  type RetryReason,
  isHeadersTimeout,
  notResendableHeaders,
  type RetryScope,
  resendVerdict,
  retryAfterMs,
  retryDelayMs,
  retryReasonForStatus,
} from './retry-policy';
import type { UpstreamExchange } from './upstream-exchange';
import { type RetryGrant, type UpstreamGuard, verdictForStatus } from './upstream-guard';

/** What the retry layer needs of an upstream: its name (errors, metrics), kind, dispatcher and guard. */
export type UpstreamCallTarget = Pick<RelayTarget, 'name' | 'kind' | 'dispatcher' | 'guard'>;

/** Thrown when the client left (or the drain cap came) while a retry waited: the callers' abort handling takes it. */
function abandonedWhileWaiting(): Error {
  const error = new Error('The call was abandoned while a retry waited');
  error.name = 'AbortError';
  return error;
}

/**
 * A reset that came once the request had been worked on for RESET_RETRY_WINDOW_MS or more: 502, marked so that
 * no caller sends it again (notResendableHeaders: neither ours nor a client's SDK), the socket error kept as its
 * cause.
 */
function resetAfterSending(target: UpstreamCallTarget, error: unknown): GatewayException {
  return new GatewayException(
    ErrorCode.UpstreamConnectionReset,
    `Upstream ${target.name} reset the connection after the request went out; it may have been processed, so it is not sent again`,
    { cause: error, headers: notResendableHeaders('reset-after-send') },
  );
}

/**
 * A call the upstream took and did not answer in time (a headers timeout): its usual 504, marked like a late
 * reset so that no caller (the gateway's key pool, a model fallback) sends it again.
 */
function timedOutAfterSending(target: UpstreamCallTarget, error: unknown): GatewayException {
  const classified = classifyUpstreamError(error, target.name);
  return new GatewayException(classified.code, classified.message, {
    cause: error,
    headers: { ...classified.headers, ...notResendableHeaders('timeout-after-send') },
  });
}

/** Waits `ms`, or less when `signal` aborts first; not at all when it already did. */
function pause(ms: number, signal: UpstreamExchange): Promise<void> {
  if (signal.aborted) {
    return Promise.resolve();
  }
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

/** A retry that may be made: the wait before it, and the budget's grant for it. */
interface PlannedRetry {
  delay: number;
  grant: RetryGrant;
}

/**
 * Retry number `retry` for `reason`, when one may be made: retries left, a `Retry-After` we may wait for, a wait
 * that ends before the call's own time budget does (`signal.endsAt`: a retry the budget would cut leaves the
 * caller a timeout instead of the answer it has), and the budget's grant (taken here); undefined when none may.
 */
function plannedRetry(
  guard: UpstreamGuard,
  reason: RetryReason,
  retry: number,
  retryAfter: number | undefined,
  signal: UpstreamExchange,
): PlannedRetry | undefined {
  if (retry > guard.retries) {
    return undefined;
  }
  const delay = retryDelayMs(retry, retryAfter);
  if (delay === undefined || (signal.endsAt !== undefined && performance.now() + delay >= signal.endsAt)) {
    return undefined;
  }
  const grant = guard.allowRetry(reason);
  return grant === undefined ? undefined : { delay, grant };
}

/**
 * Waits for the planned retry; throws when the call was abandoned before or meanwhile, the grant given back to
 * the budget (the retry is never made).
 */
async function waitToRetry(planned: PlannedRetry, signal: UpstreamExchange): Promise<void> {
  await pause(planned.delay, signal);
  if (signal.aborted) {
    planned.grant.unused();
    throw abandonedWhileWaiting();
  }
  planned.grant.made();
}

/**
 * One upstream call through the retry layer, before anything went to the client: each attempt passes the
 * target's breaker (503 `upstream_unavailable` at once while its circuit is open), and a failure `scope` allows
 * (retry-policy.ts) is tried again after its backoff, within the retries and the budget; otherwise the answer
 * is returned, whatever its status, or the attempt's error is thrown as it came (the caller classifies it),
 * except a reset that came too late to be sent again: that is thrown as its 502, marked so (resetAfterSending).
 * `first`: this is the request's first call, counted by the budget (a key failover is a retry, already paid).
 */
export async function requestUpstream(
  target: UpstreamCallTarget,
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
    const startedAt = performance.now();
    let answer: Dispatcher.ResponseData;
    try {
      answer = await target.dispatcher.request(options);
    } catch (error) {
      // An attempt the call's own time budget cut (CallDeadline) is the upstream's failure to answer, as a headers
      // timeout is; one the client or the drain ended says nothing of the upstream.
      const abandoned = (signal.aborted && !signal.timedOut) || error instanceof GatewayException;
      pass.settle(abandoned ? 'abandoned' : 'failed');
      const verdict = abandoned ? undefined : resendVerdict(error, performance.now() - startedAt);
      if (verdict === 'never') {
        throw isHeadersTimeout(error) ? timedOutAfterSending(target, error) : resetAfterSending(target, error);
      }
      const planned =
        verdict === undefined || scope === 'none'
          ? undefined
          : plannedRetry(guard, 'connection', retry, undefined, signal);
      if (planned === undefined) {
        throw error;
      }
      await waitToRetry(planned, signal);
      continue;
    }
    pass.settle(verdictForStatus(target.kind, answer.statusCode));
    const reason = scope === 'all' ? retryReasonForStatus(answer.statusCode) : undefined;
    const planned =
      reason === undefined
        ? undefined
        : plannedRetry(guard, reason, retry, retryAfterMs(answer.headers['retry-after']), signal);
    if (planned === undefined) {
      return answer;
    }
    // The refused answer's body is read to its end, so that its connection serves the retry.
    await answer.body.dump().catch(() => undefined);
    await waitToRetry(planned, signal);
  }
}
