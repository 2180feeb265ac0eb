import fc from 'fast-check';
import type { GrantedReservation, KeyLimits } from '@openai-proxy/gateway-util-team';
import { MemoryLimiter } from './memory-limiter';

/** One step of a property run: reserve an ask, or settle the outstanding reservation `pick` points at. */
type Step =
  { kind: 'reserve'; tokens: number; costMicros: number } | { kind: 'settle'; pick: number; usedShare: number };

const steps = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('reserve' as const),
      tokens: fc.integer({ min: 0, max: 150 }),
      costMicros: fc.integer({ min: 0, max: 400_000 }),
    }),
    fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      usedShare: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  ),
  { maxLength: 60 },
);

const limitsArbitrary = fc.record({
  rpm: fc.integer({ min: 1, max: 30 }),
  tpm: fc.integer({ min: 1, max: 500 }),
  budgetUsd: fc.integer({ min: 0, max: 2_000_000 }).map((micros) => micros / 1_000_000),
  budgetPeriod: fc.constant('monthly' as const),
});

const NOTHING_SPENT = (): Promise<number> => Promise.resolve(0);
const NOW = Date.UTC(2026, 0, 15);

/** What a run granted and what it holds, with the clock fixed (nothing refills). */
interface RunTotals {
  requests: number;
  tokens: number;
  micros: number;
  /** Tokens in use: what settled reservations used plus what outstanding ones reserved. */
  tokensInUse: number;
}

/** Runs the steps on a fresh limiter; `settleToReserved` settles each at its estimate, else at a share of it. */
async function run(limits: KeyLimits, plan: readonly Step[], settleToReserved: boolean): Promise<RunTotals> {
  const limiter = new MemoryLimiter({ now: () => NOW });
  const outstanding: GrantedReservation[] = [];
  const totals: RunTotals = { requests: 0, tokens: 0, micros: 0, tokensInUse: 0 };
  for (const step of plan) {
    if (step.kind === 'reserve') {
      const ask = { keyId: 'key_property', limits, tokens: step.tokens, costUsd: step.costMicros / 1_000_000 };
      const answer = await limiter.reserve(ask, NOTHING_SPENT);
      if (answer.granted) {
        outstanding.push(answer);
        totals.requests += 1;
        totals.tokens += answer.tokens;
        totals.micros += step.costMicros;
        totals.tokensInUse += answer.tokens;
      }
    } else if (outstanding.length > 0) {
      const [reservation] = outstanding.splice(step.pick % outstanding.length, 1);
      if (reservation !== undefined) {
        const used = settleToReserved ? reservation.tokens : Math.floor(reservation.tokens * step.usedShare);
        await limiter.settle(reservation, { tokens: used, costUsd: reservation.costUsd });
        totals.tokensInUse -= reservation.tokens - used;
      }
    }
  }
  await limiter.close();
  return totals;
}

describe('MemoryLimiter (properties)', () => {
  it('should never grant more than the rpm, the tpm or the budget with a fixed clock, when settled as reserved', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArbitrary, steps, async (limits, plan) => {
        const totals = await run(limits, plan, true);
        expect(totals.requests).toBeLessThanOrEqual(limits.rpm);
        expect(totals.tokens).toBeLessThanOrEqual(limits.tpm);
        expect(totals.micros).toBeLessThanOrEqual(Math.round(limits.budgetUsd * 1_000_000));
      }),
      { numRuns: 50 },
    );
  });

  it('should never have more tokens in use than the tpm when requests use less than they reserved', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArbitrary, steps, async (limits, plan) => {
        const totals = await run(limits, plan, false);
        expect(totals.requests).toBeLessThanOrEqual(limits.rpm);
        expect(totals.tokensInUse).toBeLessThanOrEqual(limits.tpm);
      }),
      { numRuns: 50 },
    );
  });
});
