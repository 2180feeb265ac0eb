import 'reflect-metadata';
import { installShutdownSignals, listenServiceApp, runMain } from '@openai-proxy/feature-platform';
import { loadOpenAiRelayConfig } from './config/openai-relay.env';
import { createOpenAiRelayApp } from './openai-relay.app';

runMain(async () => {
  const config = loadOpenAiRelayConfig();
  const app = await createOpenAiRelayApp(config);
  installShutdownSignals(app, config.platform);
  await listenServiceApp(app, config.platform.port);
});
