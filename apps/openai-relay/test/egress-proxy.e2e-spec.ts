import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { FakeConnectProxy, type FakeUpstream, startFakeOpenAi } from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../src/openai-relay.app';

describe('egress through HTTPS_PROXY', () => {
  let openai: FakeUpstream;
  let proxy: FakeConnectProxy;

  beforeAll(async () => {
    [openai, proxy] = await Promise.all([startFakeOpenAi(), FakeConnectProxy.start()]);
  });

  afterAll(async () => {
    await Promise.all([openai.close(), proxy.close()]);
  });

  async function startRelay(env: Record<string, string>): Promise<NestExpressApplication> {
    const relay = await createOpenAiRelayApp(
      loadOpenAiRelayConfig({ OPENAI_API_BASE: openai.url, LOG_LEVEL: 'silent', ...env }),
    );
    await listenServiceApp(relay, 0, '127.0.0.1');
    return relay;
  }

  it('should tunnel relayed requests and billing calls through the proxy', async () => {
    const relay = await startRelay({ HTTPS_PROXY: proxy.url });
    try {
      const target = new URL(openai.url).host;
      const models = await request(await relay.getUrl())
        .get('/openai/v1/models')
        .set('Authorization', 'Bearer sk-x');
      expect(models.status).toBe(200);
      expect(proxy.tunnels).toContain(target);
      const tunnelsBefore = proxy.tunnels.length;
      const billing = await request(await relay.getUrl())
        .get('/openai/billing/credit_grants')
        .set('Authorization', 'Bearer sess-x');
      expect(billing.status).toBe(200);
      expect(proxy.tunnels.length).toBeGreaterThan(tunnelsBefore);
    } finally {
      await relay.close();
    }
  });

  it('should connect directly to hosts listed in NO_PROXY', async () => {
    const relay = await startRelay({ HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    try {
      const before = proxy.tunnels.length;
      const models = await request(await relay.getUrl())
        .get('/openai/v1/models')
        .set('Authorization', 'Bearer sk-x');
      const billing = await request(await relay.getUrl())
        .get('/openai/billing/credit_grants')
        .set('Authorization', 'Bearer sess-x');
      expect([models.status, billing.status]).toEqual([200, 200]);
      expect(proxy.tunnels.length).toBe(before);
    } finally {
      await relay.close();
    }
  });
});
