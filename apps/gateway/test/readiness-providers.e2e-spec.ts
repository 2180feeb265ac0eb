import request from 'supertest';
import { type Stack, startStack } from './support/stack';

const WARNING = 'provider names differ';

describe('the gateway /readyz and its providers', () => {
  describe('when the relay and the gateway are given the same OpenAI-compatible providers', () => {
    let stack: Stack;

    beforeAll(async () => {
      const providers = { OPENAI_COMPATIBLE_PROVIDERS: 'deepseek=http://127.0.0.1:9,qwen=http://127.0.0.1:9' };
      stack = await startStack({ relayEnv: providers, gatewayEnv: providers });
    });

    afterAll(() => stack.close());

    it('should list per service the providers it serves, the compatible ones under the relay', async () => {
      const ready = await request(stack.gatewayUrl).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({
        status: 'ready',
        checks: {
          'openai-relay': { ok: true, detail: 'readyz answered 200', providers: ['openai', 'deepseek', 'qwen'] },
          'claude-bridge': { ok: true, detail: 'readyz answered 200', providers: ['anthropic', 'claude.ai'] },
          'bard-bridge': { ok: true, detail: 'readyz answered 200', providers: ['gemini', 'bard'] },
        },
        breakers: {
          upstreams: {
            'openai-relay': { state: 'closed' },
            'claude-bridge': { state: 'closed' },
            'bard-bridge': { state: 'closed' },
          },
        },
      });
      expect(stack.logs.text).not.toContain(WARNING);
    });
  });

  describe('when the relay serves other OpenAI-compatible names than the gateway routes', () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack({
        relayEnv: { OPENAI_COMPATIBLE_PROVIDERS: 'deepseek=http://127.0.0.1:9,kimi=http://127.0.0.1:9' },
        gatewayEnv: { OPENAI_COMPATIBLE_PROVIDERS: 'deepseek=http://127.0.0.1:9,qwen=http://127.0.0.1:9' },
      });
    });

    afterAll(() => stack.close());

    it('should name the differing names on the relay check and stay ready through the other services', async () => {
      const ready = await request(stack.gatewayUrl).get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ready');
      expect(ready.body.checks['openai-relay']).toEqual({
        ok: false,
        detail: `readyz answered 200; ${WARNING}: not served by the openai-relay: qwen; not routed by the gateway: kimi`,
        providers: ['openai', 'deepseek', 'qwen'],
      });
      expect(ready.body.checks['claude-bridge'].ok).toBe(true);
    });

    it('should log one warning naming the names, not one per readiness probe, when the difference persists', async () => {
      await request(stack.gatewayUrl).get('/readyz');
      await request(stack.gatewayUrl).get('/readyz');
      const warnings = stack.logs.lines.filter((line) => line.includes(WARNING));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 40 });
      expect(warnings[0]).toContain('qwen');
      expect(warnings[0]).toContain('kimi');
    });
  });
});
