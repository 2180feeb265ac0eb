import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'undici';
import { readChunks } from './body-chunks';
import { leaveWhileStalled } from './client-leaves';
import { jsonAnswer, lyingLength, retryAfterAnswer, streamAnswer } from './fault-plans';
import { FaultUpstream } from './fault-upstream';

let fault: FaultUpstream;
let agent: Agent;

beforeEach(async () => {
  fault = await FaultUpstream.start();
  agent = new Agent({ headersTimeout: 2_000, bodyTimeout: 2_000 });
});

afterEach(async () => {
  await agent.close();
  await fault.close();
});

describe(FaultUpstream.name, () => {
  it('should record arrival, headers, body digest and size, and when the socket closed', async () => {
    const before = Date.now();
    const leaving = new Agent();
    const answer = await request(`${fault.url}/v1/chat/completions?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-probe': 'yes' },
      body: '{"hello":"world"}',
      dispatcher: leaving,
    });
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.json()).toEqual({ ok: true });
    await leaving.close();

    const [record] = fault.records;
    expect(record?.request).toMatchObject({ method: 'POST', url: '/v1/chat/completions?x=1', closedEarly: false });
    expect(record?.request.headers['x-probe']).toBe('yes');
    expect(record?.request.bodySha256).toBe(createHash('sha256').update('{"hello":"world"}').digest('hex'));
    expect(record?.bodyBytes).toBe(17);
    expect(record?.request.receivedAt).toBeGreaterThanOrEqual(before);
    expect(record).toMatchObject({ connection: 1, requestOnConnection: 1, writes: [11] });
    const closedAt = record === undefined ? 0 : await fault.waitForSocketClose(record);
    expect(closedAt).toBeGreaterThanOrEqual(record?.headersSentAt ?? Infinity);
  });

  it('should answer the queued plans in arrival order, then the plan chosen from each request', async () => {
    fault.next(jsonAnswer(201, { first: true })).otherwise((arrived) => jsonAnswer(202, { url: arrived.url }));
    const statuses: number[] = [];
    const bodies: unknown[] = [];
    for (const path of ['/a', '/b', '/c']) {
      const answer = await request(`${fault.url}${path}`, { dispatcher: agent });
      statuses.push(answer.statusCode);
      bodies.push(await answer.body.json());
    }
    expect(statuses).toEqual([201, 202, 202]);
    expect(bodies).toEqual([{ first: true }, { url: '/b' }, { url: '/c' }]);
    expect(fault.records.map((record) => record.plan)).toEqual([
      jsonAnswer(201, { first: true }),
      jsonAnswer(202, { url: '/b' }),
      jsonAnswer(202, { url: '/c' }),
    ]);
  });

  it('should send the headers only after the planned delay', async () => {
    fault.next(jsonAnswer(200, { slow: true }, { headersAfterMs: 200 }));
    const sentAt = Date.now();
    const answer = await request(fault.url, { dispatcher: agent });
    const headersAt = Date.now();
    expect(await answer.body.json()).toEqual({ slow: true });
    expect(headersAt - sentAt).toBeGreaterThanOrEqual(190);
    const [record] = fault.records;
    expect((record?.headersSentAt ?? 0) - (record?.request.receivedAt ?? Infinity)).toBeGreaterThanOrEqual(190);
  });

  it('should never send headers that stall, so a client with a headers timeout gives up', async () => {
    fault.next({ kind: 'stall-headers' });
    const impatient = new Agent({ headersTimeout: 150 });
    try {
      await expect(request(fault.url, { dispatcher: impatient })).rejects.toMatchObject({
        code: 'UND_ERR_HEADERS_TIMEOUT',
      });
    } finally {
      await impatient.close();
    }
    const record = await fault.waitForRecord();
    await fault.waitForSocketClose(record);
    expect(record.headersSentAt).toBeUndefined();
    expect(record.request.closedEarly).toBe(true);
  });

  it('should see its stalled request closed when a client leaves, through the client-leaves helpers', async () => {
    fault.next({ kind: 'stall-headers' });
    const arrived = await leaveWhileStalled(
      fault.url,
      fault.upstream,
      { method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/json' }, body: '{}' },
      (candidate) => candidate.url === '/v1/messages',
    );
    expect(arrived.closedEarly).toBe(true);
    expect(fault.records[0]?.headersSentAt).toBeUndefined();
  });

  it('should answer 429 with Retry-After in seconds and 503 with Retry-After as an HTTP date', async () => {
    const date = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    fault.next(retryAfterAnswer(429, 7), retryAfterAnswer(503, date));
    const limited = await request(fault.url, { dispatcher: agent });
    await limited.body.dump();
    const unavailable = await request(fault.url, { dispatcher: agent });
    expect(await unavailable.body.json()).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect([limited.statusCode, limited.headers['retry-after']]).toEqual([429, '7']);
    expect(unavailable.statusCode).toBe(503);
    expect(Date.parse(String(unavailable.headers['retry-after']))).toBe(date.getTime());
    expect(fault.records.map((record) => record.plan.kind === 'answer' && record.plan.status)).toEqual([429, 503]);
  });

  it('should send a Content-Length longer than the body and close, so the client sees the body cut short', async () => {
    fault.next(lyingLength(100, 'only eleven'));
    const answer = await request(fault.url, { dispatcher: agent });
    expect(answer.headers['content-length']).toBe('100');
    const read = await readChunks(answer.body);
    expect(Buffer.concat(read.chunks).toString()).toBe('only eleven');
    expect(read.error).toMatchObject({ code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' });
    const record = await fault.waitForRecord();
    expect(record.writes).toEqual([11]);
    await fault.waitForSocketClose(record);
  });

  it('should send a Content-Length shorter than the body, so the client reads only the declared bytes', async () => {
    fault.next(lyingLength(4, 'only eleven'));
    const answer = await request(fault.url, { dispatcher: agent });
    expect(await answer.body.text()).toBe('only');
    const record = await fault.waitForRecord();
    expect(record.writes).toEqual([11]);
  });

  it('should stop every wait and destroy every socket when closed in the middle of its answers', async () => {
    const closing = await FaultUpstream.start();
    closing.next(
      jsonAnswer(200, {}, { headersAfterMs: 300 }),
      streamAnswer(['data: 1\n\n', 'data: 2\n\n'], { gapMs: 300 }),
      { kind: 'stall-headers' },
    );
    const failures = [0, 1, 2].map(
      () =>
        new Promise<string>((resolve) => {
          const client = httpRequest(closing.url, (response) => {
            void readChunks(response).then((read) => resolve(read.error?.message ?? 'ended'));
          });
          client.once('error', (error) => resolve(error.message));
          client.end();
        }),
    );
    await closing.waitFor(() => (closing.records[1]?.writes.length === 1 ? true : undefined));
    await closing.waitForRecord(2);
    expect(closing.openConnections).toBe(3);

    await closing.close();
    expect(closing.records.map((record) => record.socketClosedAt)).not.toContain(undefined);
    expect(closing.openConnections).toBe(0);
    expect((await Promise.all(failures)).sort()).toEqual(['aborted', 'socket hang up', 'socket hang up']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(closing.records.map((record) => [record.headersSentAt !== undefined, record.writes])).toEqual([
      [false, []],
      [true, [9]],
      [false, []],
    ]);
  });
});
