import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, listenServiceApp } from '@openai-proxy/feature-platform';
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
