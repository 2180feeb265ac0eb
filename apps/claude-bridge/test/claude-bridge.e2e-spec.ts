import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { openApiDocument, readServiceBasics } from '@openai-proxy/testing-fakes';
import { loadClaudeBridgeConfig } from '../src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../src/claude-bridge.app';

describe('claude-bridge', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createClaudeBridgeApp(loadClaudeBridgeConfig({ LOG_LEVEL: 'silent' }));
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
      breakers: { upstreams: { anthropic: { state: 'closed' }, 'claude.ai': { state: 'closed' } } },
    });
    expect(basics.metrics).toContain('http_requests_total');
    expect(basics.docsTitle).toBe('claude-bridge');
    expect(basics.unknownRoute).toEqual({
      status: 404,
      body: { error: { message: 'Unknown route', type: 'invalid_request_error', param: null, code: 'not_found' } },
    });
  });

  it('should describe the routes it serves in /docs when its description is read (it said they were to come)', async () => {
    const description = (await openApiDocument(await app.getUrl())).info?.description ?? '';
    for (const route of [
      '/claude/organizations',
      '/claude/:org/v1/chat/completions',
      '/claude/v1/models',
      '/anthropic/',
    ]) {
      expect(description).toContain(route);
    }
    expect(description).not.toContain('issue');
  });
});

describe('loadClaudeBridgeConfig', () => {
  it('should read the claude.ai base from its alias and the auto-delete flag', () => {
    const config = loadClaudeBridgeConfig({
      CLAUDE_BASE: 'http://127.0.0.1:1/api',
      CLAUDE_AUTO_DELETE_CONVERSATION: 'false',
    });
    expect(config.claude).toMatchObject({
      webBase: 'http://127.0.0.1:1/api',
      autoDeleteConversation: false,
      webModel: 'claude-2.1',
    });
    expect(config.platform.port).toBe(3002);
  });
});
