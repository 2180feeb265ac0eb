import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, listenServiceApp } from '@openai-proxy/feature-platform';
import { type Closable, type FakeUpstream, startFakeOpenAi, startServiceOnFakes } from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../../src/openai-relay.app';

export interface RunningRelay {
  app: NestExpressApplication;
  url: string;
  port: number;
}

/** The openai-relay on 127.0.0.1 (port 0) with `env` (logs silent unless `env` says otherwise). */
export async function startRelay(
  env: Record<string, string>,
  options: PlatformModuleOptions = {},
): Promise<RunningRelay> {
  const app = await createOpenAiRelayApp(loadOpenAiRelayConfig({ LOG_LEVEL: 'silent', ...env }), options);
  await listenServiceApp(app, 0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, url, port: Number(new URL(url).port) };
}

/** An openai-relay with a fake api.openai.com of its own; `close` stops both. */
export interface RelayOnFakeOpenAi extends RunningRelay, Closable {
  openai: FakeUpstream;
}

/** Starts the fake, then the openai-relay pointed at it (`env` adds or overrides settings). */
export async function startRelayOnFakeOpenAi(env: Record<string, string> = {}): Promise<RelayOnFakeOpenAi> {
  const openai = await startFakeOpenAi();
  const relay = await startServiceOnFakes([openai], () => startRelay({ OPENAI_API_BASE: openai.url, ...env }));
  return { ...relay, openai };
}
