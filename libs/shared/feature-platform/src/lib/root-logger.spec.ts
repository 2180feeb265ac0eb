import { Writable } from 'node:stream';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { PinoNestLogger, createRootLogger } from './root-logger';

class Lines extends Writable {
  readonly lines: Array<{ level: number; context?: string; msg: string }> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      this.lines.push(JSON.parse(line) as { level: number; context?: string; msg: string });
    }
    callback();
  }
}

function nestLogger(logLevel: string): { logger: PinoNestLogger; destination: Lines } {
  const destination = new Lines();
  const settings = { serviceName: 'openai-relay', logLevel } as PlatformSettings;
  return { logger: new PinoNestLogger(createRootLogger(settings, destination)), destination };
}

/** What Nest prints while it starts: one line per module and per route. */
function logStartup(logger: PinoNestLogger): void {
  logger.log('Starting Nest application...', 'NestFactory');
  logger.log('PlatformModule dependencies initialized', 'InstanceLoader');
  logger.log('HealthController {/}:', 'RoutesResolver');
  logger.log('Mapped {/healthz, GET} route', 'RouterExplorer');
  logger.log('Mapped {/readyz, GET} route', 'RouterExplorer');
  logger.log('Nest application successfully started', 'NestApplication');
}

describe(PinoNestLogger.name, () => {
  // Regression: `npm start` printed Nest's route table and module list line by line at info.
  it('should keep the route table and module list out of info when the service starts', () => {
    const { logger, destination } = nestLogger('info');
    logStartup(logger);
    expect(destination.lines.map((line) => line.msg)).toEqual([
      'Starting Nest application...',
      'Nest application successfully started',
    ]);
  });

  it('should write the route table at debug when the level is debug', () => {
    const { logger, destination } = nestLogger('debug');
    logStartup(logger);
    const mapped = destination.lines.filter((line) => line.context === 'RouterExplorer');
    expect(mapped.map((line) => [line.level, line.msg])).toEqual([
      [20, 'Mapped {/healthz, GET} route'],
      [20, 'Mapped {/readyz, GET} route'],
    ]);
  });

  it('should keep warnings of any context when the level is info', () => {
    const { logger, destination } = nestLogger('info');
    logger.warn('Something odd', 'RouterExplorer');
    expect(destination.lines.map((line) => [line.level, line.msg])).toEqual([[40, 'Something odd']]);
  });
});
