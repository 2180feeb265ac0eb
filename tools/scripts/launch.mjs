#!/usr/bin/env node
// Starts the four services on one machine (npm start), or the same against bundled fake upstreams
// (npm run demo, with --demo). Ctrl-C (or SIGTERM) stops them all, letting each drain its streams.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const demo = process.argv.includes('--demo');
const env = process.env;

const ports = {
  gateway: Number(env.GATEWAY_PORT ?? 3000),
  'openai-relay': Number(env.OPENAI_RELAY_PORT ?? 3001),
  'claude-bridge': Number(env.CLAUDE_BRIDGE_PORT ?? 3002),
  'bard-bridge': Number(env.BARD_BRIDGE_PORT ?? 3003),
};
const serviceUrl = (name) => `http://127.0.0.1:${ports[name]}`;

async function startDemoUpstreams() {
  const fakes = createRequire(import.meta.url)(join(root, 'libs/shared/testing-fakes/dist/index.js'));
  const openai = await fakes.startFakeOpenAi();
  const anthropic = await fakes.startFakeAnthropic();
  const claudeWeb = await fakes.startFakeClaudeWeb();
  const gemini = await fakes.startFakeGemini();
  const bardWeb = await fakes.startFakeBard();
  process.stdout.write(`demo: fake OpenAI upstream on ${openai.url} (any key starting with sk- works)\n`);
  process.stdout.write(`demo: fake Anthropic upstream on ${anthropic.url} (any key starting with sk-ant- works)\n`);
  process.stdout.write(
    `demo: fake Bard on ${bardWeb.url} (cookies __Secure-1PSID=g.a000… and __Secure-1PSIDTS=sidts-… work)\n`,
  );
  process.stdout.write(`demo: fake Gemini API on ${gemini.url} (keys starting with AIza work)\n`);
  process.stdout.write(
    `demo: fake claude.ai on ${claudeWeb.fake.url} (session keys starting with sk-ant-sid01- work)\n`,
  );
  return {
    upstreams: [openai, anthropic, claudeWeb.fake, gemini, bardWeb],
    env: {
      OPENAI_API_BASE: openai.url,
      ANTHROPIC_API_BASE: anthropic.url,
      CLAUDE_WEB_BASE: claudeWeb.fake.url,
      GEMINI_API_BASE: gemini.url,
      BARD_BASE: bardWeb.url,
    },
  };
}

function start(name, extraEnv) {
  const main = join(root, 'apps', name, 'dist', 'main.js');
  if (!existsSync(main)) {
    process.stderr.write(`${main} is missing: run "npm run build" first\n`);
    process.exit(1);
  }
  const child = spawn(process.execPath, [main], {
    env: { ...env, ...extraEnv, PORT: String(ports[name]) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.serviceName = name;
  return child;
}

const demoSetup = demo ? await startDemoUpstreams() : { upstreams: [], env: {} };
const children = [
  start('openai-relay', demoSetup.env),
  start('claude-bridge', demoSetup.env),
  start('bard-bridge', demoSetup.env),
  start('gateway', {
    OPENAI_RELAY_URL: serviceUrl('openai-relay'),
    CLAUDE_BRIDGE_URL: serviceUrl('claude-bridge'),
    BARD_BRIDGE_URL: serviceUrl('bard-bridge'),
  }),
];

let stopping = false;
const running = new Set(children);

function stopAll(exitCode) {
  if (stopping) {
    return;
  }
  stopping = true;
  for (const child of running) {
    child.kill('SIGTERM');
  }
  // Each service drains for at most SHUTDOWN_DRAIN_MS (25 s by default); then it is stopped for good.
  const deadline = setTimeout(
    () => {
      for (const child of running) child.kill('SIGKILL');
      process.exit(exitCode || 1);
    },
    Number(env.SHUTDOWN_DRAIN_MS ?? 25_000) + 5_000,
  );
  deadline.unref();
  const finish = async () => {
    await Promise.all(demoSetup.upstreams.map((upstream) => upstream.close()));
    process.exit(exitCode);
  };
  if (running.size === 0) void finish();
  for (const child of children) child.once('exit', () => running.size === 0 && void finish());
}

for (const child of children) {
  child.once('exit', (code, signal) => {
    running.delete(child);
    if (!stopping) {
      process.stderr.write(`${child.serviceName} exited (${signal ?? code}); stopping the others\n`);
      stopAll(1);
    }
  });
}
process.once('SIGINT', () => stopAll(0));
process.once('SIGTERM', () => stopAll(0));

process.stdout.write(
  `openai-proxy: gateway on http://localhost:${ports.gateway} (docs at /docs), ` +
    `openai-relay :${ports['openai-relay']}, claude-bridge :${ports['claude-bridge']}, bard-bridge :${ports['bard-bridge']}. Ctrl-C stops all.\n`,
);
