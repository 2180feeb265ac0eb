import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { FakeConnectProxy, FakeSocks5Proxy, type FakeUpstream, startFakeOpenAi } from '@openai-proxy/testing-fakes';
import { ConfigValidationError } from '@openai-proxy/util-config';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../src/openai-relay.app';

describe('egress through HTTPS_PROXY and ALL_PROXY', () => {
  let openai: FakeUpstream;
  let proxy: FakeConnectProxy;
  let socks: FakeSocks5Proxy;

  beforeAll(async () => {
    [openai, proxy, socks] = await Promise.all([startFakeOpenAi(), FakeConnectProxy.start(), FakeSocks5Proxy.start()]);
  });

  afterAll(async () => {
    await Promise.all([openai.close(), proxy.close(), socks.close()]);
  });

  async function startRelay(env: Record<string, string>): Promise<NestExpressApplication> {
    const relay = await createOpenAiRelayApp(
      loadOpenAiRelayConfig({ OPENAI_API_BASE: openai.url, LOG_LEVEL: 'silent', ...env }),
    );
    await listenServiceApp(relay, 0, '127.0.0.1');
    return relay;
  }

  /** Runs `check` against a fresh relay (an empty pool: each first call opens its own tunnel), then closes it. */
  async function withRelay(env: Record<string, string>, check: (url: string) => Promise<void>): Promise<void> {
    const relay = await startRelay(env);
    try {
      await check(await relay.getUrl());
    } finally {
      await relay.close();
    }
  }

  const models = (url: string): request.Test =>
    request(url).get('/openai/v1/models').set('Authorization', 'Bearer sk-x');
  const billing = (url: string): request.Test =>
    request(url).get('/openai/billing/credit_grants').set('Authorization', 'Bearer sess-x');
  const target = (): { host: string; port: number } => ({
    host: new URL(openai.url).hostname,
    port: Number(new URL(openai.url).port),
  });

  it('should tunnel relayed requests through the proxy when HTTPS_PROXY is an HTTP proxy', async () => {
    await withRelay({ HTTPS_PROXY: proxy.url }, async (url) => {
      expect((await models(url)).status).toBe(200);
      expect(proxy.tunnels).toContain(new URL(openai.url).host);
    });
  });

  it('should tunnel billing calls through the proxy when HTTPS_PROXY is an HTTP proxy', async () => {
    await withRelay({ HTTPS_PROXY: proxy.url }, async (url) => {
      const before = proxy.tunnels.length;
      expect((await billing(url)).status).toBe(200);
      expect(proxy.tunnels.slice(before)).toContain(new URL(openai.url).host);
    });
  });

  it('should relay /openai/** through a SOCKS5 proxy when ALL_PROXY names one', async () => {
    await withRelay({ ALL_PROXY: socks.url() }, async (url) => {
      const before = socks.connects.length;
      const answer = await models(url);
      expect(answer.status).toBe(200);
      expect(openai.requests.at(-1)?.url).toBe('/v1/models');
      expect(socks.connects.slice(before)).toEqual([{ addressType: 'ipv4', ...target(), username: undefined }]);
    });
  });

  it('should log in to the SOCKS5 proxy when ALL_PROXY has a user and password', async () => {
    const guarded = await FakeSocks5Proxy.start({ login: { username: 'clash', password: 's3cret' } });
    try {
      await withRelay({ all_proxy: guarded.url('socks5h', 'clash:s3cret') }, async (url) => {
        expect((await models(url)).status).toBe(200);
        expect(guarded.connects).toEqual([{ addressType: 'ipv4', ...target(), username: 'clash' }]);
      });
    } finally {
      await guarded.close();
    }
  });

  it('should send billing calls through the SOCKS5 proxy when ALL_PROXY names one', async () => {
    await withRelay({ ALL_PROXY: socks.url('socks5h') }, async (url) => {
      const before = socks.connects.length;
      expect((await billing(url)).status).toBe(200);
      expect(socks.connects.slice(before).map((connect) => connect.port)).toContain(target().port);
    });
  });

  it('should connect directly to hosts listed in NO_PROXY whichever proxy is set', async () => {
    const proxies: Record<string, string>[] = [{ HTTPS_PROXY: proxy.url }, { ALL_PROXY: socks.url() }];
    for (const env of proxies) {
      await withRelay({ ...env, NO_PROXY: '127.0.0.1' }, async (url) => {
        const before = [proxy.tunnels.length, socks.connects.length];
        expect([(await models(url)).status, (await billing(url)).status]).toEqual([200, 200]);
        expect([proxy.tunnels.length, socks.connects.length]).toEqual(before);
      });
    }
  });

  it('should answer 502 naming the upstream and not the proxy login when the SOCKS5 proxy refuses', async () => {
    const refusing = await FakeSocks5Proxy.start({ refuseWith: 0x02 });
    try {
      await withRelay({ ALL_PROXY: refusing.url('socks5', 'clash:hunter2') }, async (url) => {
        const answer = await models(url);
        expect(answer.status).toBe(502);
        expect(answer.body).toEqual({
          error: expect.objectContaining({
            message: 'Upstream openai could not be reached through the egress proxy',
            code: 'upstream_bad_response',
          }) as unknown,
        });
        expect(answer.text).not.toMatch(/hunter2|clash|127\.0\.0\.1/);
        expect(refusing.connects).toHaveLength(1);
      });
    } finally {
      await refusing.close();
    }
  });

  it('should refuse to start naming ALL_PROXY when its scheme is not one we tunnel through', () => {
    expect(() => loadOpenAiRelayConfig({ ALL_PROXY: 'socks4://127.0.0.1:7890' })).toThrow(ConfigValidationError);
    expect(() => loadOpenAiRelayConfig({ all_proxy: 'ftp://127.0.0.1:21' })).toThrow(/ALL_PROXY: must be an http/);
  });

  // Regression: a bare % in the login passed the schema and crashed the start with URIError: URI malformed.
  it('should refuse to start naming ALL_PROXY and not the login when the login has a bare percent sign', async () => {
    const start = startRelay({ ALL_PROXY: `socks5://clash:100%@127.0.0.1:${socks.port}` });
    const error: unknown = await start.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).message).toContain('ALL_PROXY: percent-encode the login');
    expect((error as ConfigValidationError).message).not.toMatch(/clash|100%/);
  });
});
