import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { loadOpenAiRelayConfig } from '../../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../../src/openai-relay.app';

export interface RunningRelay {
  app: NestExpressApplication;
  url: string;
  port: number;
}

/** The openai-relay on 127.0.0.1 (port 0) with `env` (logs silent unless `env` says otherwise). */
export async function startRelay(env: Record<string, string>): Promise<RunningRelay> {
  const app = await createOpenAiRelayApp(loadOpenAiRelayConfig({ LOG_LEVEL: 'silent', ...env }));
  await listenServiceApp(app, 0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, url, port: Number(new URL(url).port) };
}
