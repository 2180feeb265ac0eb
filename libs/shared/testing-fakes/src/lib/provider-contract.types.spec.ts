import { ContractReports } from './provider-contract.types';

/** Unhandled rejections seen while `run` runs and the microtasks and immediates after it settle. */
async function unhandledRejectionsDuring(run: () => void): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  try {
    run();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  return seen;
}

describe(ContractReports.name, () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('should hand the next report to the case waiting for it when a call ends', async () => {
    const reports = new ContractReports();
    const next = reports.next();
    reports.record({ usage: { promptTokens: 1, completionTokens: 2 }, clientLeft: false });
    await expect(next).resolves.toEqual({ promptTokens: 1, completionTokens: 2 });
  });

  it('should reject a wait when no report comes within 5 s', async () => {
    const reports = new ContractReports();
    const next = reports.next();
    jest.advanceTimersByTime(5_000);
    await expect(next).rejects.toThrow('no call report within 5 s');
  });

  it('should keep no timer when the pending waits are cleared after a case that never awaited its report', () => {
    const reports = new ContractReports();
    void reports.next();
    reports.clear();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('should make no unhandled rejection when a wait nobody awaited runs out', async () => {
    const reports = new ContractReports();
    const seen = await unhandledRejectionsDuring(() => {
      void reports.next();
      jest.advanceTimersByTime(5_000);
    });
    expect(seen).toEqual([]);
  });

  it('should make no unhandled rejection when a report wait nobody awaited runs out', async () => {
    const reports = new ContractReports();
    const seen = await unhandledRejectionsDuring(() => {
      void reports.nextReport();
      jest.advanceTimersByTime(5_000);
    });
    expect(seen).toEqual([]);
  });
});
