import 'reflect-metadata';
import { installShutdownSignals, listenServiceApp, runMain } from '@openai-proxy/feature-platform';
import { loadClaudeBridgeConfig } from './config/claude-bridge.env';
import { createClaudeBridgeApp } from './claude-bridge.app';

runMain(async () => {
  const config = loadClaudeBridgeConfig();
  const app = await createClaudeBridgeApp(config);
  installShutdownSignals(app, config.platform);
  await listenServiceApp(app, config.platform.port);
});
