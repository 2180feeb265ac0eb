#!/usr/bin/env node
// npm run bench:instructions [-- --requests N] : instructions per relayed request, counted by valgrind's
// callgrind, for the floor and the openai-relay (instant JSON, 32 connections). Wall-clock figures drift on
// shared machines; instruction counts do not (the main thread repeats within ~2%; GC and compiler threads
// vary more). Each target runs under callgrind on CPU 0, warmed up, then counted over N requests only.
// Loopback only; bounded in time. Needs valgrind (callgrind_control comes with it).
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, reportedPort, spawnTracked, stopAll, waitUntilOk } from './processes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const requestsIndex = process.argv.indexOf('--requests');
const REQUESTS = requestsIndex === -1 ? 3000 : Number(process.argv[requestsIndex + 1]);
const WARMUP_REQUESTS = 3000;
const HARD_LIMIT_MS = 15 * 60_000;
async function load(url, amount) {
  const result = await autocannon({
    url,
    connections: 32,
    amount,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-0000' },
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

async function measure(name, script, env) {
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), `instructions-${name}-`));
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
  const url = `http://127.0.0.1:${port}/openai/v1/instant`;
  // Under valgrind the first answers take seconds.
  await waitUntilOk(url, { init: { method: 'POST', body: '{}' }, deadlineMs: 120_000, attemptMs: 2_000, pauseMs: 500 });
  await load(url, WARMUP_REQUESTS);
  spawnSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
  const errors = await load(url, REQUESTS);
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
  const rows = [
    await measure('floor', join(root, 'tools/bench/floor-proxy.mjs'), { TARGET: upstreamUrl }),
    await measure('openai-relay', join(root, 'apps/openai-relay/dist/main.js'), { OPENAI_API_BASE: upstreamUrl }),
  ];
  const floor = rows[0];
  process.stdout.write(`\nInstructions per request (callgrind, ${REQUESTS} requests after ${WARMUP_REQUESTS}):\n`);
  for (const row of rows) {
    const ratio = (floor.perRequest / row.perRequest).toFixed(2);
    const mainRatio = (floor.mainPerRequest / row.mainPerRequest).toFixed(2);
    process.stdout.write(
      `  ${row.name.padEnd(14)} main thread ${String(row.mainPerRequest).padStart(8)} (floor/this ${mainRatio})  all threads ${String(row.perRequest).padStart(8)} (floor/this ${ratio})  errors ${row.errors}\n`,
    );
  }
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
