import { type Server, createServer } from 'node:http';
import { FakeUpstream } from './fake-upstream';
import { sse } from './fake-responses';
import { closeServer, listenOnLoopback } from './loopback-server';
import { streamReportCases } from './provider-contract.report-cases';
import { type ChatContractFixture, ContractReports } from './provider-contract.types';

const LEFT_CASE = 'should report a client that left mid-stream (it reported a success)';

/** A delta frame with its text; the last one the bridge sends is cut before its end. */
const textFrame = (word: string): string => `data: ${JSON.stringify({ choices: [{ delta: { content: word } }] })}\n\n`;

const FIXTURE: ChatContractFixture = {
  startUpstream: () => FakeUpstream.start(),
  startBridge: () => Promise.reject(new Error('this spec starts its own bridge')),
  chatPath: '/v1/chat/completions',
  headers: {},
  chatRoute: { method: 'POST', path: '/v1/chat/completions' },
  defaultChat: sse({ frames: [] }),
  rateLimited: sse({ frames: [] }),
  usage: undefined,
  model: 'example',
  streaming: { textFrames: (words) => words.map(textFrame), midStreamErrorFrames: (word) => [textFrame(word)] },
};

describe(streamReportCases.name, () => {
  const reports = new ContractReports();
  let upstream: FakeUpstream;
  let url = '';
  /** A bridge that streams "one" and half of the next frame in one write, then stalls until its client left. */
  const bridge: Server = createServer((_request, response) => {
    response.once('close', () => reports.record({ usage: undefined, clientLeft: true }));
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`${textFrame('one')}${textFrame('two').slice(0, 20)}`);
  });

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    url = (await listenOnLoopback(bridge)).url;
  });

  afterAll(async () => {
    reports.clear();
    await closeServer(bridge);
    await upstream.close();
  });

  it('should leave once the text arrived when the read so far ends in a partial frame (it threw a SyntaxError)', async () => {
    const left = streamReportCases(FIXTURE, () => undefined).find((reportCase) => reportCase.name === LEFT_CASE);
    expect(left).toBeDefined();
    await left?.run({ upstream, url, reports });
  });
});
