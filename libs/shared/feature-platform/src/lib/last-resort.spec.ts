import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { createRootLogger } from './root-logger';
import { MetricsService } from './metrics.service';
import { installLastResortHandlers } from './last-resort';
import type { PlatformSettings } from '@openai-proxy/util-config';

class Lines extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    callback();
  }
}

describe(installLastResortHandlers.name, () => {
  it('should log redacted and count an uncaught exception and an unhandled rejection instead of exiting', async () => {
    const lines = new Lines();
    const logger = createRootLogger({ serviceName: 'test', logLevel: 'info' } as PlatformSettings, lines);
    const metrics = new MetricsService();
    const processLike = new EventEmitter();
    const uninstall = installLastResortHandlers(logger, metrics, processLike);
    processLike.emit('uncaughtException', new TypeError('boom with sk-secret0123456789abcdef'));
    processLike.emit('unhandledRejection', 'refused', Promise.resolve());
    uninstall();
    expect(processLike.listenerCount('uncaughtException')).toBe(0);
    const text = lines.lines.join('');
    expect(text).toContain('boom with');
    expect(text).not.toContain('sk-secret0123456789abcdef');
    expect(text).toContain('refused');
    const rendered = await metrics.render();
    expect(rendered).toContain('process_last_resort_errors_total{kind="uncaught_exception"} 1');
    expect(rendered).toContain('process_last_resort_errors_total{kind="unhandled_rejection"} 1');
  });
});
