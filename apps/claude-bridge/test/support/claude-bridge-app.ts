import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type FakeClaudeWeb,
  type FakeUpstream,
  type Closable,
  startFakeAnthropic,
  startFakeClaudeWeb,
  startServiceOnFakes,
} from '@openai-proxy/testing-fakes';
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

/** A claude-bridge with a fake Anthropic API and a fake claude.ai of its own; `close` stops all three. */
export interface ClaudeBridgeOnFakes extends RunningClaudeBridge, Closable {
  anthropic: FakeUpstream;
  claudeWeb: FakeClaudeWeb;
}

/** Starts both fakes, then the claude-bridge pointed at them (`env` adds or overrides settings). */
export async function startClaudeBridgeOnFakes(
  env: Record<string, string> = {},
  options: PlatformModuleOptions = {},
): Promise<ClaudeBridgeOnFakes> {
  const anthropic = await startFakeAnthropic();
  const claudeWeb = await startFakeClaudeWeb();
  const bridge = await startServiceOnFakes([anthropic, claudeWeb.fake], () =>
    startClaudeBridge({ ANTHROPIC_API_BASE: anthropic.url, CLAUDE_WEB_BASE: claudeWeb.fake.url, ...env }, options),
  );
  return { ...bridge, anthropic, claudeWeb };
}
