import 'reflect-metadata';
import { installShutdownSignals, listenServiceApp, runMain } from '@openai-proxy/feature-platform';
import { loadGatewayConfig } from './config/gateway.env';
import { createGatewayApp } from './gateway.app';

runMain(async () => {
  const config = loadGatewayConfig();
  const app = await createGatewayApp(config);
  installShutdownSignals(app, config.platform);
  await listenServiceApp(app, config.platform.port);
});
