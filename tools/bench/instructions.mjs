#!/usr/bin/env node
// npm run bench:instructions [-- --requests N] : instructions per relayed request, counted by valgrind's
// callgrind, for the floor, the openai-relay, and the gateway's POST /v1/chat/completions with GATEWAY_KEYS=off
// and with a gateway key (key check, limits in process, ledger on SQLite) (instant JSON, 32 connections).
// Wall-clock figures drift on shared machines; instruction counts do not (the main thread repeats within ~2%;
// GC and compiler threads vary more). Each target runs under callgrind on CPU 0, warmed up, then counted over
// N requests only; the gateway's relay runs natively on CPU 1 beside the upstream. Loopback only; bounded in
// time. Needs valgrind (callgrind_control comes with it).
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, removeOnStop, reportedPort, spawnTracked, stopAll, waitUntilOk } from './processes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const requestsIndex = process.argv.indexOf('--requests');
const REQUESTS = requestsIndex === -1 ? 3000 : Number(process.argv[requestsIndex + 1]);
const WARMUP_REQUESTS = 3000;
const HARD_LIMIT_MS = 15 * 60_000;
const BENCH_KEY = 'sk-bench-0000';
const ADMIN_TOKEN = 'bench-admin-token-0000';

async function load(url, amount, key) {
  const result = await autocannon({
    url,
    connections: 32,
    amount,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  return result.errors + result.timeouts + result.non2xx;
}

/** Totals of the dump files callgrind wrote per thread: `…-01` is the main thread. */
function countedInstructions(folder) {
  let all = 0;
  let main = 0;
  for (const name of readdirSync(folder).filter((file) => /\.1-\d+$/.test(file))) {
    const match = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(folder, name), 'utf8'));
    const count = match ? Number(match[1]) : 0;
    all += count;
    if (name.endsWith('-01')) main = count;
  }
  return { all, main };
}

/** A gateway key with limits it never reaches (each request still reserves and settles them). */
async function createGatewayKey(origin) {
  const response = await fetch(`${origin}/admin/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ name: 'bench', rpm: 1e9, tpm: 1e12, budget_usd: 1e6, budget_period: 'monthly' }),
    signal: AbortSignal.timeout(120_000),
  });
  if (!response.ok) throw new Error(`creating a gateway key answered ${response.status}`);
  return (await response.json()).key;
}

/**
 * Counts one target. `path` is what is loaded; `ready` what must answer first; `keyFor(origin)` the bearer
 * key to load with.
 */
async function measure(name, script, env, { path = '/openai/v1/instant', ready = path, keyFor } = {}) {
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), `instructions-${name.replace(/[^a-z0-9]+/gi, '-')}-`));
  const child = spawnTracked(
    name,
    'taskset',
    [
      '-c',
      '0',
      'valgrind',
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(folder, 'out')}`,
      process.execPath,
      script,
    ],
    { PORT: String(port), ...env },
    'pipe',
  );
  child.stdout.resume();
  child.stderr.resume();
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}${path}`;
  // Under valgrind the first answers take seconds.
  const init = ready === path ? { method: 'POST', body: '{}' } : {};
  await waitUntilOk(`${origin}${ready}`, { init, deadlineMs: 120_000, attemptMs: 2_000, pauseMs: 500 });
  const key = keyFor === undefined ? BENCH_KEY : await keyFor(origin);
  await load(url, WARMUP_REQUESTS, key);
  spawnSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
  const errors = await load(url, REQUESTS, key);
  spawnSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const { all, main } = countedInstructions(folder);
  if (process.env.KEEP_CALLGRIND === undefined) rmSync(folder, { recursive: true, force: true });
  else process.stdout.write(`callgrind files kept in ${folder}\n`);
  if (all === 0) throw new Error(`no callgrind dump for ${name}`);
  return { name, perRequest: Math.round(all / REQUESTS), mainPerRequest: Math.round(main / REQUESTS), errors };
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed');
  if (!existsSync(join(root, 'apps/openai-relay/dist/main.js'))) throw new Error('Build first: npm run build');
  const upstream = spawnTracked(
    'upstream',
    'taskset',
    ['-c', '1', process.execPath, join(root, 'tools/bench/upstream.mjs')],
    {},
  );
  const upstreamUrl = `http://127.0.0.1:${await reportedPort(upstream)}`;
  const relayPort = await freePort();
  const relay = spawnTracked(
    'openai-relay (native)',
    'taskset',
    ['-c', '1', process.execPath, join(root, 'apps/openai-relay/dist/main.js')],
    { PORT: String(relayPort), OPENAI_API_BASE: upstreamUrl },
  );
  relay.stdout.resume();
  const relayUrl = `http://127.0.0.1:${relayPort}`;
  await waitUntilOk(`${relayUrl}/healthz`);
  const teamFolder = mkdtempSync(join(tmpdir(), 'instructions-team-'));
  removeOnStop(teamFolder);
  const gateway = join(root, 'apps/gateway/dist/main.js');
  const services = {
    OPENAI_RELAY_URL: relayUrl,
    CLAUDE_BRIDGE_URL: 'http://127.0.0.1:9',
    BARD_BRIDGE_URL: 'http://127.0.0.1:9',
  };
  const chat = { path: '/v1/chat/completions', ready: '/readyz' };
  const rows = [
    await measure('floor', join(root, 'tools/bench/floor-proxy.mjs'), { TARGET: upstreamUrl }),
    await measure('openai-relay', join(root, 'apps/openai-relay/dist/main.js'), { OPENAI_API_BASE: upstreamUrl }),
    await measure('gateway /v1', gateway, { ...services, GATEWAY_KEYS: 'off' }, chat),
    await measure(
      'gateway /v1 (team)',
      gateway,
      {
        ...services,
        GATEWAY_KEYS: 'required',
        GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
        OPENAI_API_KEY: BENCH_KEY,
        DATABASE_URL: `sqlite:${join(teamFolder, 'team.db')}`,
      },
      { ...chat, keyFor: createGatewayKey },
    ),
  ];
  const [floor, , gatewayOff, gatewayTeam] = rows;
  process.stdout.write(`\nInstructions per request (callgrind, ${REQUESTS} requests after ${WARMUP_REQUESTS}):\n`);
  for (const row of rows.slice(0, 2)) {
    const ratio = (floor.perRequest / row.perRequest).toFixed(2);
    const mainRatio = (floor.mainPerRequest / row.mainPerRequest).toFixed(2);
    process.stdout.write(
      `  ${row.name.padEnd(20)} main thread ${String(row.mainPerRequest).padStart(8)} (floor/this ${mainRatio})  all threads ${String(row.perRequest).padStart(8)} (floor/this ${ratio})  errors ${row.errors}\n`,
    );
  }
  for (const row of rows.slice(2)) {
    const ratio = (gatewayOff.perRequest / row.perRequest).toFixed(2);
    const mainRatio = (gatewayOff.mainPerRequest / row.mainPerRequest).toFixed(2);
    process.stdout.write(
      `  ${row.name.padEnd(20)} main thread ${String(row.mainPerRequest).padStart(8)} (off/this ${mainRatio})    all threads ${String(row.perRequest).padStart(8)} (off/this ${ratio})    errors ${row.errors}\n`,
    );
  }
  const extra = gatewayTeam.mainPerRequest - gatewayOff.mainPerRequest;
  process.stdout.write(
    `  A gateway key's check, limits and ledger row: ${extra} main-thread instructions per request.\n`,
  );
  process.stdout.write('  The main thread repeats within ~2%; the GC and compiler threads vary more between runs.\n');
}

const limit = setTimeout(() => {
  process.stderr.write('bench:instructions: time limit reached, stopping\n');
  stopAll();
  process.exit(2);
}, HARD_LIMIT_MS);
limit.unref();

main()
  .catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
