import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type FakeUpstream,
  startFakeAnthropic,
  startFakeBard,
  startFakeClaudeWeb,
  startFakeGemini,
  startFakeOpenAi,
} from '@openai-proxy/testing-fakes';
import { type BackendServiceName, SERVICES_MANIFEST, backendServices } from '@openai-proxy/util-services';
import { loadGatewayConfig } from '../../src/config/gateway.env';
import { createGatewayApp } from '../../src/gateway.app';
// Stack tests compose the real apps in one process: the gateway in front, the relay and bridges behind it.
import { loadOpenAiRelayConfig } from '../../../openai-relay/src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../../../openai-relay/src/openai-relay.app';
import { loadClaudeBridgeConfig } from '../../../claude-bridge/src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../../../claude-bridge/src/claude-bridge.app';
import { loadBardBridgeConfig } from '../../../bard-bridge/src/config/bard-bridge.env';
import { createBardBridgeApp } from '../../../bard-bridge/src/bard-bridge.app';

/** Collects every JSON log line a service writes; each one is also emitted as a 'line' event. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const lines = chunk
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0);
    this.lines.push(...lines);
    lines.forEach((line) => this.emit('line', line));
    callback();
  }

  /**
   * Resolves true once a line containing `text` was written (at once when one already was), false after
   * `timeoutMs`. `from` skips the lines written before it (a count of `lines` taken earlier).
   */
  waitFor(text: string, { from = 0, timeoutMs = 2_000 }: { from?: number; timeoutMs?: number } = {}): Promise<boolean> {
    if (this.lines.slice(from).some((line) => line.includes(text))) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const finish = (found: boolean): void => {
        clearTimeout(timer);
        this.off('line', onLine);
        resolve(found);
      };
      const onLine = (line: string): void => {
        if (line.includes(text)) {
          finish(true);
        }
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.on('line', onLine);
    });
  }

  get text(): string {
    return this.lines.join('\n');
  }
}

export type Env = Record<string, string>;

export interface StackOptions {
  relayEnv?: Env;
  gatewayEnv?: Env;
  claudeEnv?: Env;
  bardEnv?: Env;
}

export interface Stack {
  openai: FakeUpstream;
  anthropic: FakeUpstream;
  claudeWeb: Awaited<ReturnType<typeof startFakeClaudeWeb>>;
  gemini: FakeUpstream;
  bardWeb: FakeUpstream;
  relay: NestExpressApplication;
  gateway: NestExpressApplication;
  bridges: NestExpressApplication[];
  relayUrl: string;
  gatewayUrl: string;
  logs: LogCapture;
  client(apiKey?: string): OpenAI;
  close(): Promise<void>;
}

export function urlOf(app: NestExpressApplication): string {
  const address = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

async function listen(app: NestExpressApplication): Promise<string> {
  await listenServiceApp(app, 0, '127.0.0.1');
  return urlOf(app);
}

/** The gateway's service URL variables (`OPENAI_RELAY_URL`, …, from the services manifest) for these URLs. */
function gatewayServiceEnv(urls: Record<BackendServiceName, string>): Env {
  return Object.fromEntries(
    backendServices(SERVICES_MANIFEST).map((service) => [
      service.urlVariable,
      urls[service.name as BackendServiceName],
    ]),
  );
}

/** The whole product on 127.0.0.1 ports chosen by the OS, with a fake OpenAI behind it. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const logs = new LogCapture();
  const openai = await startFakeOpenAi();
  const anthropic = await startFakeAnthropic();
  const claudeWeb = await startFakeClaudeWeb();
  const gemini = await startFakeGemini();
  const bardWeb = await startFakeBard();
  const relay = await createOpenAiRelayApp(
    loadOpenAiRelayConfig({ OPENAI_API_BASE: openai.url, LOG_LEVEL: 'debug', ...options.relayEnv }),
    { logDestination: logs },
  );
  const relayUrl = await listen(relay);
  const claude = await createClaudeBridgeApp(
    loadClaudeBridgeConfig({
      ANTHROPIC_API_BASE: anthropic.url,
      CLAUDE_WEB_BASE: claudeWeb.fake.url,
      LOG_LEVEL: 'debug',
      ...options.claudeEnv,
    }),
    { logDestination: logs },
  );
  const bard = await createBardBridgeApp(
    loadBardBridgeConfig({
      GEMINI_API_BASE: gemini.url,
      BARD_BASE: bardWeb.url,
      LOG_LEVEL: 'debug',
      ...options.bardEnv,
    }),
    {
      logDestination: logs,
    },
  );
  const serviceUrls: Record<BackendServiceName, string> = {
    'openai-relay': relayUrl,
    'claude-bridge': await listen(claude),
    'bard-bridge': await listen(bard),
  };
  const gateway = await createGatewayApp(
    loadGatewayConfig({
      ...gatewayServiceEnv(serviceUrls),
      LOG_LEVEL: 'debug',
      ...options.gatewayEnv,
    }),
    { logDestination: logs },
  );
  const gatewayUrl = await listen(gateway);
  return {
    openai,
    anthropic,
    claudeWeb,
    gemini,
    bardWeb,
    relay,
    gateway,
    bridges: [claude, bard],
    relayUrl,
    gatewayUrl,
    logs,
    client: (apiKey = 'sk-test-0123456789') =>
      new OpenAI({ apiKey, baseURL: `${gatewayUrl}/openai/v1`, maxRetries: 0, timeout: 10_000 }),
    close: async () => {
      await Promise.all([gateway.close(), relay.close(), claude.close(), bard.close()]);
      await Promise.all([openai.close(), anthropic.close(), claudeWeb.fake.close(), gemini.close(), bardWeb.close()]);
    },
  };
}
