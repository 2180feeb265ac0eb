/// <reference types="jest" />
// Loaded only by the contract runners (Jest suites): describe, it and the hooks are Jest's globals.
import { providerContractCases } from './provider-contract.cases';
import { type ContractBridge, ContractReports, type ProviderContractFixture } from './provider-contract.types';
import type { FakeUpstream } from './fake-upstream';
import { chatCalls } from './provider-contract.requests';

/**
 * Registers the contract cases for one adapter as a Jest suite: its fake and its bridge started once, each
 * call report of the bridge's provider pipeline handed to the case waiting for it, each case ended once every
 * provider call it made was reported (a late report never reaches the next case), the waits it left and the
 * fake's chat route cleared and restored after it, everything closed at the end.
 */
export function describeProviderContract(name: string, fixture: ProviderContractFixture): void {
  describe(`${name} under the provider contract`, () => {
    const reports = new ContractReports();
    let upstream: FakeUpstream | undefined;
    let bridge: ContractBridge | undefined;
    let stopReports: (() => void) | undefined;
    let reportsBefore = 0;
    let callsBefore = 0;

    beforeAll(async () => {
      upstream = await fixture.startUpstream();
      bridge = await fixture.startBridge(upstream.url);
      stopReports = bridge.pipeline.onReport((report) => reports.record(report));
    });

    beforeEach(() => {
      reportsBefore = reports.count;
      callsBefore = upstream === undefined ? 0 : chatCalls(fixture, upstream).length;
    });

    afterEach(async () => {
      try {
        const calls = upstream === undefined ? 0 : chatCalls(fixture, upstream).length - callsBefore;
        await reports.reached(reportsBefore + calls);
      } finally {
        reports.clear();
        upstream?.on(fixture.chatRoute.method, fixture.chatRoute.path, fixture.defaultChat);
      }
    });

    afterAll(async () => {
      stopReports?.();
      await bridge?.close();
      await upstream?.close();
    });

    for (const contractCase of providerContractCases(fixture)) {
      it(contractCase.name, async () => {
        if (upstream === undefined || bridge === undefined) {
          throw new Error('the bridge under contract did not start');
        }
        await contractCase.run({ upstream, url: bridge.url, reports });
      });
    }
  });
}
