import { MetricsService } from '@openai-proxy/feature-platform';
import type { UpstreamRetrySettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { DEFAULT_RETRY_SETTINGS } from './__fixtures__/retry-settings';
import { type AttemptVerdict, UpstreamGuard, UpstreamGuards, verdictForStatus } from './upstream-guard';

const OPEN_MS = 60;
const SETTINGS: UpstreamRetrySettings = { ...DEFAULT_RETRY_SETTINGS, breakerFailures: 3, breakerOpenMs: OPEN_MS };
/** Longest a test waits for an open circuit to let a probe through. */
const PROBE_WITHIN_MS = 2_000;

/** Lets the breaker record what was settled (cockatiel records after a few microtasks). */
function recorded(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs attempts that end with `verdict`, one after another. */
async function attempts(guard: UpstreamGuard, verdict: AttemptVerdict, count: number): Promise<void> {
  for (let attempt = 0; attempt < count; attempt += 1) {
    guard.enter().settle(verdict);
    await recorded();
  }
}

/** What `enter` threw, or undefined when it let the attempt through (that pass is settled `answered`). */
function refusal(guard: UpstreamGuard): GatewayException | undefined {
  try {
    guard.enter().settle('answered');
    return undefined;
  } catch (error) {
    if (error instanceof GatewayException) {
      return error;
    }
    throw error;
  }
}

/** The probe's pass, once the open time is over (bounded wait). */
async function probeWhenDue(guard: UpstreamGuard): Promise<ReturnType<UpstreamGuard['enter']>> {
  const deadline = Date.now() + PROBE_WITHIN_MS;
  while (Date.now() < deadline) {
    try {
      return guard.enter();
    } catch {
      await sleep(10);
    }
  }
  throw new Error(`no probe within ${PROBE_WITHIN_MS} ms`);
}

async function circuitGauge(metrics: MetricsService, upstream: string): Promise<number | undefined> {
  const { values } = await metrics.circuitState.get();
  return values.find((value) => value.labels.upstream === upstream)?.value;
}

describe(UpstreamGuard.name, () => {
  let metrics: MetricsService;
  let guard: UpstreamGuard;

  beforeEach(() => {
    metrics = new MetricsService();
    guard = new UpstreamGuard('openai', SETTINGS, metrics);
  });

  it('should let attempts through while fewer failures than the threshold came in a row', async () => {
    await attempts(guard, 'failed', 2);
    expect(refusal(guard)).toBeUndefined();
    expect(guard.view()).toEqual({ state: 'closed' });
    await expect(circuitGauge(metrics, 'openai')).resolves.toBe(0);
  });

  it('should open after the threshold of failures in a row and refuse at once with 503 and a Retry-After', async () => {
    await attempts(guard, 'failed', 3);
    const refused = refusal(guard);
    expect(refused?.code).toBe(ErrorCode.UpstreamUnavailable);
    expect(refused?.status).toBe(503);
    expect(refused?.message).toContain('openai');
    expect(refused?.headers['retry-after']).toBe('1');
    expect(guard.view()).toEqual({ state: 'open', retryAfterSeconds: 1 });
    await expect(circuitGauge(metrics, 'openai')).resolves.toBe(2);
  });

  it('should count failures in a row only: an answer in between starts the count again', async () => {
    await attempts(guard, 'failed', 2);
    await attempts(guard, 'answered', 1);
    await attempts(guard, 'failed', 2);
    expect(guard.view().state).toBe('closed');
  });

  it('should not count attempts our side abandoned', async () => {
    await attempts(guard, 'abandoned', 10);
    await attempts(guard, 'failed', 2);
    expect(guard.view().state).toBe('closed');
  });

  it('should let one probe through once the open time is over, refuse the others, and close when it is answered', async () => {
    await attempts(guard, 'failed', 3);
    const probe = await probeWhenDue(guard);
    expect(guard.view()).toEqual({ state: 'half_open' });
    await expect(circuitGauge(metrics, 'openai')).resolves.toBe(1);
    expect(refusal(guard)?.headers['retry-after']).toBe('1');
    probe.settle('answered');
    await recorded();
    expect(guard.view()).toEqual({ state: 'closed' });
    await expect(circuitGauge(metrics, 'openai')).resolves.toBe(0);
    expect(refusal(guard)).toBeUndefined();
  });

  it.each<AttemptVerdict>(['failed', 'abandoned'])(
    'should open again for another while when the probe ends %s',
    async (verdict) => {
      await attempts(guard, 'failed', 3);
      const probe = await probeWhenDue(guard);
      probe.settle(verdict);
      await recorded();
      expect(guard.view().state).toBe('open');
      expect(refusal(guard)?.code).toBe(ErrorCode.UpstreamUnavailable);
      const next = await probeWhenDue(guard);
      next.settle('answered');
      await recorded();
      expect(guard.view().state).toBe('closed');
    },
  );

  it('should never open with the breakers off', async () => {
    const unguarded = new UpstreamGuard('off', { ...SETTINGS, breakerFailures: 0 }, metrics);
    await attempts(unguarded, 'failed', 20);
    expect(refusal(unguarded)).toBeUndefined();
    expect(unguarded.view()).toEqual({ state: 'closed' });
  });

  it('should count each retry by reason, and each one the budget refused', async () => {
    guard.budget.recordFirst();
    const given = [1, 2, 3, 4].map(() => guard.allowRetry('status_5xx'));
    expect(given.map((grant) => grant !== undefined)).toEqual([true, true, true, false]);
    for (const grant of given) {
      grant?.made();
    }
    const retries = await metrics.retries.get();
    expect(retries.values).toEqual([{ labels: { upstream: 'openai', reason: 'status_5xx' }, value: 3 }]);
    const exhausted = await metrics.retryBudgetExhausted.get();
    expect(exhausted.values).toEqual([{ labels: { upstream: 'openai' }, value: 1 }]);
  });

  it('should count a granted retry only once made, and give one never made back to the budget', async () => {
    guard.budget.recordFirst();
    const unused = guard.allowRetry('connection');
    unused?.unused();
    const made = [1, 2, 3].map(() => guard.allowRetry('connection'));
    made.forEach((grant) => grant?.made());
    expect(made.every((grant) => grant !== undefined)).toBe(true);
    expect(guard.allowRetry('connection')).toBeUndefined();
    const retries = await metrics.retries.get();
    expect(retries.values).toEqual([{ labels: { upstream: 'openai', reason: 'connection' }, value: 3 }]);
  });
});

describe(verdictForStatus.name, () => {
  it.each([
    ['provider', 500, 'failed'],
    ['provider', 503, 'failed'],
    ['provider', 429, 'answered'],
    ['provider', 401, 'answered'],
    ['provider', 200, 'answered'],
    // A service answers with its provider's status: that provider's breaker, behind it, counts it.
    ['internal', 503, 'answered'],
  ] as const)('should judge a %s hop that answered %i: %s', (kind, status, verdict) => {
    expect(verdictForStatus(kind, status)).toBe(verdict);
  });
});

describe(UpstreamGuards.name, () => {
  it('should give one guard per upstream name and show each breaker by name', async () => {
    const guards = new UpstreamGuards(SETTINGS, new MetricsService());
    expect(guards.for('openai')).toBe(guards.for('openai'));
    await attempts(guards.for('openai'), 'failed', 3);
    guards.for('deepseek');
    expect(guards.views()).toEqual({
      openai: { state: 'open', retryAfterSeconds: 1 },
      deepseek: { state: 'closed' },
    });
  });
});
