import 'reflect-metadata';
import { installShutdownSignals, listenServiceApp, runMain } from '@openai-proxy/feature-platform';
import { loadBardBridgeConfig } from './config/bard-bridge.env';
import { createBardBridgeApp } from './bard-bridge.app';

runMain(async () => {
  const config = loadBardBridgeConfig();
  const app = await createBardBridgeApp(config);
  installShutdownSignals(app, config.platform);
  await listenServiceApp(app, config.platform.port);
});
