import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, listenServiceApp } from '@openai-proxy/feature-platform';
import { loadClaudeBridgeConfig } from '../../src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../../src/claude-bridge.app';

export interface RunningClaudeBridge {
  app: NestExpressApplication;
  url: string;
}

/** The claude-bridge on 127.0.0.1 (port 0) with `env` (logs silent unless `env` says otherwise). */
export async function startClaudeBridge(
  env: Record<string, string>,
  options: PlatformModuleOptions = {},
): Promise<RunningClaudeBridge> {
  const app = await createClaudeBridgeApp(loadClaudeBridgeConfig({ LOG_LEVEL: 'silent', ...env }), options);
  await listenServiceApp(app, 0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}
