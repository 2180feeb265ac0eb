#!/usr/bin/env node
// Starts the services of the services manifest on one machine (npm start), or the same against bundled fake upstreams
// (npm run demo, with --demo); `--only a,b` starts just those, with the same environment: one more gateway replica
// in front of running services is `GATEWAY_PORT=3100 npm start -- --only gateway` (its team-mode variables, e.g.
// DATABASE_URL and REDIS_URL, pass through like every other). A service that dies is restarted, however often
// (see launch/supervisor.mjs); Ctrl-C (or SIGTERM) stops them all, letting each drain its streams, and exits 0.
// Log lines: readable in a terminal, the services' JSON untouched otherwise (LOG_FORMAT=pretty|json forces one).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogOutput, chooseLogFormat } from './launch/log-lines.mjs';
import { RESTART_MAX_MS, Supervisor } from './launch/supervisor.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = process.env;

/** The built services manifest: names in start order, each one's port (its `*_PORT` variable, e.g. GATEWAY_PORT). */
function loadManifest() {
  const built = join(root, 'libs/shared/util-services/dist/index.js');
  if (!existsSync(built)) {
    fail(`${built} is missing: run "npm run build" first`);
  }
  return createRequire(import.meta.url)(built);
}

const services = loadManifest();
const SERVICES = services.startOrder(services.SERVICES_MANIFEST);
const EDGE = services.edgeService(services.SERVICES_MANIFEST).name;
const portsByName = services.launcherPorts(services.SERVICES_MANIFEST, env);
const ports = Object.fromEntries(portsByName);

/** `--demo` and `--only a,b`; an unknown service name or option ends the launcher with code 2. */
function readArguments(argv) {
  const options = { demo: false, only: SERVICES };
  for (let index = 0; index < argv.length; index += 1) {
    if (argv[index] === '--demo') {
      options.demo = true;
    } else if (argv[index] === '--only') {
      options.only = (argv[(index += 1)] ?? '').split(',').filter(Boolean);
      const unknown = options.only.filter((name) => !SERVICES.includes(name));
      if (options.only.length === 0 || unknown.length > 0) {
        fail(`--only takes a comma-separated list of ${SERVICES.join(', ')} (got "${unknown.join(',')}")`);
      }
    } else {
      fail(`unknown option ${argv[index]} (options: --demo, --only <service>[,<service>])`);
    }
  }
  return options;
}

function fail(message) {
  process.stderr.write(`launcher: ${message}\n`);
  process.exit(2);
}

async function startDemoUpstreams(log) {
  const fakes = createRequire(import.meta.url)(join(root, 'libs/shared/testing-fakes/dist/index.js'));
  const openai = await fakes.startFakeOpenAi();
  const anthropic = await fakes.startFakeAnthropic();
  const claudeWeb = await fakes.startFakeClaudeWeb();
  const gemini = await fakes.startFakeGemini();
  const bardWeb = await fakes.startFakeBard();
  log.write('info', `demo: fake OpenAI upstream on ${openai.url} (any key starting with sk- works)`);
  log.write('info', `demo: fake Anthropic upstream on ${anthropic.url} (any key starting with sk-ant- works)`);
  log.write(
    'info',
    `demo: fake Bard on ${bardWeb.url} (cookies __Secure-1PSID=g.a000… and __Secure-1PSIDTS=sidts-… work)`,
  );
  log.write('info', `demo: OpenAI-compatible provider deepseek (/deepseek/**) on the fake OpenAI upstream`);
  log.write('info', `demo: fake Gemini API on ${gemini.url} (keys starting with AIza work)`);
  log.write('info', `demo: fake claude.ai on ${claudeWeb.fake.url} (session keys starting with sk-ant-sid01- work)`);
  return {
    upstreams: [openai, anthropic, claudeWeb.fake, gemini, bardWeb],
    env: {
      OPENAI_API_BASE: openai.url,
      OPENAI_COMPATIBLE_PROVIDERS: `deepseek=${openai.url}`,
      ANTHROPIC_API_BASE: anthropic.url,
      CLAUDE_WEB_BASE: claudeWeb.fake.url,
      GEMINI_API_BASE: gemini.url,
      BARD_BASE: bardWeb.url,
    },
  };
}

function describeService(name, upstreamEnv) {
  const main = join(root, 'apps', name, 'dist', 'main.js');
  if (!existsSync(main)) {
    fail(`${main} is missing: run "npm run build" first`);
  }
  const extraEnv =
    name === EDGE
      ? {
          ...services.launcherServiceUrls(services.SERVICES_MANIFEST, portsByName),
          // The gateway routes the demo's compatible providers to the relay, so it needs their names too.
          ...(upstreamEnv.OPENAI_COMPATIBLE_PROVIDERS === undefined
            ? {}
            : { OPENAI_COMPATIBLE_PROVIDERS: upstreamEnv.OPENAI_COMPATIBLE_PROVIDERS }),
        }
      : upstreamEnv;
  return { name, main, env: { ...env, ...extraEnv, PORT: String(ports[name]) } };
}

/** LAUNCHER_RESTART_MAX_MS: the cap of the restart backoff (30 s by default; tests set a small one). */
function readRestartMaxMs() {
  if (env.LAUNCHER_RESTART_MAX_MS === undefined) {
    return RESTART_MAX_MS;
  }
  const value = Number(env.LAUNCHER_RESTART_MAX_MS);
  if (!Number.isInteger(value) || value <= 0) {
    fail(
      `LAUNCHER_RESTART_MAX_MS must be a whole number of milliseconds above 0 (got "${env.LAUNCHER_RESTART_MAX_MS}")`,
    );
  }
  return value;
}

const options = readArguments(process.argv.slice(2));
const restartMaxMs = readRestartMaxMs();
const log = new LogOutput(chooseLogFormat(env, process.stdout), SERVICES);
const demoSetup = options.demo ? await startDemoUpstreams(log) : { upstreams: [], env: {} };
let stopping = false;
const supervisor = new Supervisor(
  options.only.map((name) => describeService(name, demoSetup.env)),
  log,
  { restartMaxMs },
);

/** Stops every service (each drains for at most SHUTDOWN_DRAIN_MS, 25 s by default), then exits. */
async function stopAll(exitCode) {
  if (stopping) {
    log.write('warn', 'stopping now, without waiting for the drain');
    supervisor.kill();
    process.exit(1);
  }
  stopping = true;
  log.write('info', 'stopping all services');
  const deadline = setTimeout(
    () => {
      supervisor.kill();
      process.exit(1);
    },
    Number(env.SHUTDOWN_DRAIN_MS ?? 25_000) + 5_000,
  );
  deadline.unref();
  await supervisor.stop();
  await Promise.all(demoSetup.upstreams.map((upstream) => upstream.close()));
  process.exit(exitCode);
}

supervisor.startAll();
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

const listed = options.only.map((name) => (name === EDGE ? null : `${name} :${ports[name]}`)).filter(Boolean);
log.write(
  'info',
  `openai-proxy: ${options.only.includes(EDGE) ? `${EDGE} on http://localhost:${ports[EDGE]} (docs at /docs)` : `no ${EDGE}`}` +
    `${listed.length > 0 ? `, ${listed.join(', ')}` : ''}. Restarts a service that dies; Ctrl-C stops all.`,
);
