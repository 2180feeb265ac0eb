import assert from 'node:assert/strict';
import type { FakeHandler, FakeUpstream } from './fake-upstream';
import { sse } from './fake-responses';
import { leaveOnceSeen } from './client-leaves';
import { arrivedFrames, chat, chatBody, frames, sseDeltaText } from './provider-contract.requests';
import type { ChatContractFixture, ContractCase, ContractReport } from './provider-contract.types';

/** The code of the stream's error frame (the stream must carry one). */
function errorFrameCode(text: string): string {
  const error = frames(text).find((chunk) => chunk['error'] !== undefined)?.['error'] as { code?: string } | undefined;
  assert.ok(error !== undefined, 'the stream carries an error frame');
  return error.code ?? '';
}

/** The report of a call that failed after its first byte: the client's error, and the client stayed. */
function assertFailedReport(report: ContractReport, code: string): void {
  assert.equal(report.error?.code, code, 'the report names the error the stream ended on');
  assert.equal(report.clientLeft, false, 'the client stayed to the end');
}

/** Reads a streamed answer until `seen` is in its text, then leaves (aborts the request). */
async function leaveOnceSeenIn(fixture: ChatContractFixture, url: string, seen: string): Promise<void> {
  const sent = {
    method: 'POST',
    path: fixture.chatPath,
    headers: { ...fixture.headers, 'content-type': 'application/json' },
    body: JSON.stringify(chatBody(fixture, { stream: true })),
  };
  const text = await leaveOnceSeen(url, sent, (read) => sseDeltaText(arrivedFrames(read)).includes(seen));
  assert.match(sseDeltaText(arrivedFrames(text)), new RegExp(seen), 'the first text arrived before the client left');
}

/**
 * The reports of streams that do not complete (what a ledger bills from): a stream reset, cut in a frame or
 * ended by a provider error after the first byte reports the error its client got; a client that leaves
 * mid-stream is reported as gone; a complete stream reports neither.
 */
export function streamReportCases(
  fixture: ChatContractFixture,
  script: (upstream: FakeUpstream, handler: FakeHandler) => void,
): ContractCase[] {
  const { textFrames, midStreamErrorFrames } = fixture.streaming;
  const twoWords = textFrames(['one', 'two']);
  return [
    {
      name: 'should report no error and a client that stayed when a stream completes',
      async run({ url, reports }) {
        const report = reports.nextReport();
        await (await chat(fixture, url, { stream: true })).text();
        const { error, clientLeft } = await report;
        assert.equal(error, undefined);
        assert.equal(clientLeft, false);
      },
    },
    {
      name: 'should report the provider error when the provider fails mid-stream (it reported a success)',
      async run({ upstream, url, reports }) {
        script(upstream, sse({ frames: midStreamErrorFrames('partial') }));
        const report = reports.nextReport();
        const text = await (await chat(fixture, url, { stream: true })).text();
        assertFailedReport(await report, errorFrameCode(text));
      },
    },
    {
      name: 'should report upstream_connection_reset when the stream is reset mid-way (it reported a success)',
      async run({ upstream, url, reports }) {
        script(upstream, sse({ frames: twoWords, resetAfter: twoWords.length - 1 }));
        const report = reports.nextReport();
        const text = await (await chat(fixture, url, { stream: true })).text();
        assert.equal(errorFrameCode(text), 'upstream_connection_reset');
        assertFailedReport(await report, 'upstream_connection_reset');
      },
    },
    {
      name: 'should report the error of a stream cut in its last frame (it reported a success)',
      async run({ upstream, url, reports }) {
        const last = twoWords.at(-1) ?? '';
        const cut = [...twoWords.slice(0, -1), last.slice(0, Math.ceil(last.length / 2))];
        script(upstream, sse({ frames: cut }));
        const report = reports.nextReport();
        const text = await (await chat(fixture, url, { stream: true })).text();
        assertFailedReport(await report, errorFrameCode(text));
      },
    },
    {
      name: 'should report a client that left mid-stream (it reported a success)',
      async run({ upstream, url, reports }) {
        script(upstream, sse({ frames: twoWords, stallAfter: twoWords.length - 1 }));
        const report = reports.nextReport();
        await leaveOnceSeenIn(fixture, url, 'one');
        assert.equal((await report).clientLeft, true);
      },
    },
  ];
}
