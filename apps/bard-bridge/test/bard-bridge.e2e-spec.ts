import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { openApiDocument, readServiceBasics } from '@openai-proxy/testing-fakes';
import { loadBardBridgeConfig } from '../src/config/bard-bridge.env';
import { createBardBridgeApp } from '../src/bard-bridge.app';

describe('bard-bridge', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createBardBridgeApp(loadBardBridgeConfig({ LOG_LEVEL: 'silent' }));
    await listenServiceApp(app, 0, '127.0.0.1');
  });

  afterAll(async () => {
    await app.close();
  });

  it('should start and answer health, readiness, metrics, docs and unknown routes', async () => {
    const basics = await readServiceBasics(await app.getUrl());
    expect(basics.health).toEqual({ status: 'ok' });
    expect(basics.readyStatus).toBe(200);
    // Every upstream's breaker is shown before any call (they appeared only after their first call).
    expect(basics.ready).toMatchObject({
      breakers: { upstreams: { gemini: { state: 'closed' }, bard: { state: 'closed' } } },
    });
    expect(basics.metrics).toContain('http_requests_total');
    expect(basics.docsTitle).toBe('bard-bridge');
    expect(basics.unknownRoute).toEqual({
      status: 404,
      body: { error: { message: 'Unknown route', type: 'invalid_request_error', param: null, code: 'not_found' } },
    });
  });

  it('should describe the routes it serves in /docs when its description is read (it said they were to come)', async () => {
    const description = (await openApiDocument(await app.getUrl())).info?.description ?? '';
    for (const route of ['/google/bard', '/google/v1/chat/completions', '/google/v1/models', '/gemini/']) {
      expect(description).toContain(route);
    }
    expect(description).not.toContain('issue');
  });
});

describe('loadBardBridgeConfig', () => {
  it('should default to the Gemini hosts and port 3003', () => {
    const config = loadBardBridgeConfig({});
    expect(config.bard).toEqual({
      bardBase: 'https://gemini.google.com',
      tokenTtlMs: 300_000,
      conversationTtlMs: 1_800_000,
    });
    expect(config.geminiApi).toEqual({ apiBase: 'https://generativelanguage.googleapis.com' });
    expect(config.platform.port).toBe(3003);
  });
});
