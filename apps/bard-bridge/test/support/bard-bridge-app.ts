import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type Closable,
  type FakeUpstream,
  startFakeBard,
  startFakeGemini,
  startServiceOnFakes,
} from '@openai-proxy/testing-fakes';
import { loadBardBridgeConfig } from '../../src/config/bard-bridge.env';
import { createBardBridgeApp } from '../../src/bard-bridge.app';

export interface RunningBardBridge {
  app: NestExpressApplication;
  url: string;
}

/** The bard-bridge on 127.0.0.1 (port 0) with `env` (logs silent unless `env` says otherwise). */
export async function startBardBridge(
  env: Record<string, string>,
  options: PlatformModuleOptions = {},
): Promise<RunningBardBridge> {
  const app = await createBardBridgeApp(loadBardBridgeConfig({ LOG_LEVEL: 'silent', ...env }), options);
  await listenServiceApp(app, 0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

/** A bard-bridge with a fake Gemini API and a fake Bard of its own; `close` stops all three. */
export interface BardBridgeOnFakes extends RunningBardBridge, Closable {
  gemini: FakeUpstream;
  bardWeb: FakeUpstream;
}

/** Starts both fakes, then the bard-bridge pointed at them (`env` adds or overrides settings). */
export async function startBardBridgeOnFakes(
  env: Record<string, string> = {},
  options: PlatformModuleOptions = {},
): Promise<BardBridgeOnFakes> {
  const gemini = await startFakeGemini();
  const bardWeb = await startFakeBard();
  const bridge = await startServiceOnFakes([gemini, bardWeb], () =>
    startBardBridge({ GEMINI_API_BASE: gemini.url, BARD_BASE: bardWeb.url, ...env }, options),
  );
  return { ...bridge, gemini, bardWeb };
}
