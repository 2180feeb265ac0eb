import { ReadinessService } from './readiness.service';
import { ShutdownService } from './shutdown.service';

const up = (): Promise<{ ok: boolean }> => Promise.resolve({ ok: true });
const down = (): Promise<{ ok: boolean }> => Promise.resolve({ ok: false });

describe(ReadinessService.name, () => {
  it('should be ready under the any policy while one service is up', async () => {
    const readiness = new ReadinessService(new ShutdownService());
    readiness.setPolicy('any');
    readiness.register('a', up);
    readiness.register('b', down);
    await expect(readiness.report()).resolves.toMatchObject({ status: 'ready' });
  });

  it('should not be ready when a required check fails, whatever the policy and the other checks', async () => {
    const readiness = new ReadinessService(new ShutdownService());
    readiness.setPolicy('any');
    readiness.register('a', up);
    readiness.register('limits', down, { required: true });
    await expect(readiness.report()).resolves.toMatchObject({
      status: 'not_ready',
      checks: { a: { ok: true }, limits: { ok: false } },
    });
  });

  it('should be ready with only a required check that passes', async () => {
    const readiness = new ReadinessService(new ShutdownService());
    readiness.setPolicy('any');
    readiness.register('limits', up, { required: true });
    await expect(readiness.report()).resolves.toMatchObject({ status: 'ready' });
  });

  it('should show registered breakers by section, ready even while one is open (breakers are never judged)', async () => {
    const readiness = new ReadinessService(new ShutdownService());
    readiness.register('a', up);
    readiness.registerBreakers('upstreams', () => ({ openai: { state: 'open', retryAfterSeconds: 4 } }));
    readiness.registerBreakers('keys', () => ({ 'openai#1': { state: 'closed' } }));
    await expect(readiness.report()).resolves.toEqual({
      status: 'ready',
      checks: { a: { ok: true } },
      breakers: {
        upstreams: { openai: { state: 'open', retryAfterSeconds: 4 } },
        keys: { 'openai#1': { state: 'closed' } },
      },
    });
  });

  it('should leave the breakers section out when none is registered', async () => {
    const readiness = new ReadinessService(new ShutdownService());
    readiness.register('a', up);
    await expect(readiness.report()).resolves.toEqual({ status: 'ready', checks: { a: { ok: true } } });
  });
});
