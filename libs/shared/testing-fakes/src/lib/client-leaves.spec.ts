import { type Server, createServer } from 'node:http';
import { leaveWhileStalled } from './client-leaves';
import { FakeUpstream } from './fake-upstream';
import { closeServer, listenOnLoopback } from './loopback-server';

/** Resolves with true once `closed` settles, with false when `withinMs` passed first (its timer cleared either way). */
async function settlesWithin(closed: Promise<void>, withinMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), withinMs);
  });
  try {
    return await Promise.race([closed.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe(leaveWhileStalled.name, () => {
  let upstream: FakeUpstream;
  let bridge: Server;
  let baseUrl = '';
  let arrived: () => void = () => undefined;
  let closed: Promise<void> = Promise.resolve();

  beforeEach(async () => {
    upstream = await FakeUpstream.start();
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    /** A bridge that never answers; `closed` resolves once its client's request closed. */
    bridge = createServer((_request, response) => {
      closed = new Promise((resolve) => response.once('close', () => resolve()));
      arrived();
    });
    baseUrl = (await listenOnLoopback(bridge)).url;
    // The wait for the upstream's request fails once the bridge got the client's request.
    jest.spyOn(upstream, 'waitForRequest').mockImplementation(async () => {
      await reached;
      throw new Error('no upstream request');
    });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await closeServer(bridge);
    await upstream.close();
  });

  it('should leave (abort its request) when the wait for the upstream request rejects (it stayed connected)', async () => {
    const sent = { method: 'POST', path: '/v1/chat/completions', headers: {}, body: '{}' };
    await expect(leaveWhileStalled(baseUrl, upstream, sent, () => true)).rejects.toThrow('no upstream request');
    expect(await settlesWithin(closed, 1_000)).toBe(true);
  });
});
