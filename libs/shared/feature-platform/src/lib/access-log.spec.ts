import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { AccessLog } from './access-log';
import { createRootLogger, defaultLogDestination } from './root-logger';

class Lines extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
}

function settings(logLevel: string): PlatformSettings {
  return { serviceName: 'openai-relay', logLevel } as PlatformSettings;
}

function exchange(
  url: string,
  headers: Record<string, string>,
): { request: IncomingMessage; response: ServerResponse } {
  const request = new IncomingMessage(new Socket());
  request.method = 'POST';
  request.url = url;
  request.headers = headers;
  const response = new ServerResponse(request);
  response.statusCode = 201;
  return { request, response };
}

function record(logLevel: string, url: string, headers: Record<string, string> = {}): string[] {
  const destination = new Lines();
  const logger = createRootLogger(settings(logLevel), destination);
  const { request, response } = exchange(url, { 'x-request-id': 'req-1', ...headers });
  const accessLog = new AccessLog(logger, destination, 'openai-relay');
  accessLog.record(request, response, 12.4);
  accessLog.flush();
  return destination.lines;
}

describe(AccessLog.name, () => {
  it('should write one JSON line in the logger format at info, with the URL redacted', () => {
    const lines = record('info', '/gemini/v1beta/models?key=AIzaSyA-1234567890abcdef&alt=sse');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      level: 30,
      time: expect.any(Number) as number,
      service: 'openai-relay',
      req: { id: 'req-1', method: 'POST', url: '/gemini/v1beta/models?key=[REDACTED]&alt=sse' },
      res: { statusCode: 201 },
      responseTime: 12,
      aborted: true,
      msg: 'request aborted',
    });
    expect(lines[0]).not.toContain('AIzaSyA');
  });

  it('should write the same line as the root logger would, but for the time', () => {
    const direct = record('info', '/openai/v1/models?key=AIzaSyA-1234567890abcdef');
    const destination = new Lines();
    const { request, response } = exchange('/openai/v1/models?key=AIzaSyA-1234567890abcdef', {
      'x-request-id': 'req-1',
    });
    createRootLogger(settings('info'), destination).info(
      { req: request, res: response, responseTime: 12, aborted: true },
      'request aborted',
    );
    const withoutTime = (line: string | undefined): unknown => ({ ...(JSON.parse(line ?? '') as object), time: 0 });
    expect(withoutTime(direct[0])).toEqual(withoutTime(destination.lines[0]));
    expect(Object.keys(JSON.parse(direct[0] ?? '') as object)).toEqual(
      Object.keys(JSON.parse(destination.lines[0] ?? '') as object),
    );
  });

  it('should escape what the URL carries so the line stays one valid JSON object', () => {
    const lines = record('info', '/openai/v1/x?q="quoted"\\back');
    expect(JSON.parse(lines[0] ?? '').req.url).toBe('/openai/v1/x?q="quoted"\\back');
  });

  it('should add the redacted request headers at debug, through the logger', () => {
    const lines = record('debug', '/openai/v1/models', { authorization: 'Bearer sk-proj-AbCdEf123456' });
    const entry = JSON.parse(lines.find((line) => line.includes('"req"')) ?? '');
    expect(entry.req.headers.authorization).toBe('[REDACTED]');
    expect(lines.join('\n')).not.toContain('sk-proj-AbCdEf123456');
  });

  it('should hand the lines of one event-loop turn to the destination in one write', async () => {
    const destination = new Lines();
    const writes: string[] = [];
    const counting = { write: (text: string) => writes.push(text) };
    const accessLog = new AccessLog(createRootLogger(settings('info'), destination), counting, 'openai-relay');
    for (const path of ['/openai/v1/a', '/openai/v1/b', '/openai/v1/c']) {
      const { request, response } = exchange(path, { 'x-request-id': 'req-1' });
      accessLog.record(request, response, 1);
    }
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(
      writes[0]
        ?.trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { req: { url: string } }).req.url),
    ).toEqual(['/openai/v1/a', '/openai/v1/b', '/openai/v1/c']);
  });

  it('should write nothing above info', () => {
    expect(record('warn', '/openai/v1/models')).toEqual([]);
  });

  it("should get a quiet service's line to the log file at once, not after 4 KiB have gathered", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'access-log-'));
    const file = join(folder, 'out.log');
    const fd = openSync(file, 'w');
    try {
      const destination = defaultLogDestination(fd);
      const accessLog = new AccessLog(createRootLogger(settings('info'), destination), destination, 'gateway');
      const { request, response } = exchange('/openai/v1/models', { 'x-request-id': 'req-quiet' });
      accessLog.record(request, response, 3);
      const deadline = Date.now() + 2_000;
      while (!readFileSync(file, 'utf8').includes('req-quiet') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(readFileSync(file, 'utf8')).toContain('"id":"req-quiet"');
    } finally {
      closeSync(fd);
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
