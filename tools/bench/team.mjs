// Team mode's state for a bench run: a temporary folder for the SQLite team database, the gateway key made
// through the admin API, and a private Redis (Debian's redis-server) on a free loopback port. The folder and
// Redis go when the run stops (processes.mjs stopAll).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeOnStop } from './processes.mjs';

const REDIS_START_MS = 10_000;
const REDIS_POLL_MS = 50;
const REDIS_PING_MS = 1_000;

/**
 * The bench key's limits, as `POST /admin/keys` takes them: all three set, so every request runs the whole
 * reservation (requests, tokens and budget), and each far above what a run can spend, so none ever refuses.
 */
const BENCH_KEY = {
  name: 'bench',
  rpm: 1_000_000_000,
  tpm: 1_000_000_000_000,
  budget_usd: 1_000_000,
  budget_period: 'monthly',
};
const ADMIN_CALL_MS = 10_000;

/** A temporary folder for the run's team files, removed by stopAll. */
export function teamFolder() {
  const folder = mkdtempSync(join(tmpdir(), 'openai-proxy-bench-team-'));
  removeOnStop(folder);
  return folder;
}

/** The `DATABASE_URL` of the run's team database (SQLite in `folder`; the first gateway creates it). */
export function teamDatabaseUrl(folder) {
  return `sqlite:${join(folder, 'team.db')}`;
}

/**
 * The bench's gateway key, made through the admin API of the gateway at `base`. The key is a secret of the run:
 * never printed, nor is the admin token.
 */
export async function createGatewayKey(base, adminToken) {
  const answer = await fetch(`${base}/admin/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(BENCH_KEY),
    signal: AbortSignal.timeout(ADMIN_CALL_MS),
  });
  const body = await answer.json().catch(() => undefined);
  if (answer.status !== 201 || typeof body?.key !== 'string' || !body.key.startsWith('gk-')) {
    throw new Error(`POST /admin/keys answered ${answer.status}: ${body?.error?.message ?? 'no gateway key'}`);
  }
  return body.key;
}

function redisServerBinary() {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  return path === '' ? undefined : path;
}

/** One PING, bounded: true when the server answered PONG. */
function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(REDIS_PING_MS, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a Redis that keeps nothing on disk, on 127.0.0.1 at a free port, through `launch(name, command, args)`
 * (a tracked, pinned process). Answers `{ url }`, or `{ problem }` when there is no redis-server or it did not
 * start: the bench then reports the Redis target as not run, and goes on.
 */
export async function startRedis(launch, folder) {
  const binary = redisServerBinary();
  if (binary === undefined) {
    return { problem: 'redis-server not found (Debian: apt-get install redis-server)' };
  }
  const port = await freePort();
  const child = launch('redis', binary, [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    folder,
    '--loglevel',
    'warning',
  ]);
  child.stdout.resume();
  const deadline = Date.now() + REDIS_START_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      return { problem: `redis-server exited at start with code ${child.exitCode}` };
    }
    if (await redisAnswers(port)) {
      return { url: `redis://127.0.0.1:${port}`, pid: child.pid };
    }
    await new Promise((resolve) => setTimeout(resolve, REDIS_POLL_MS));
  }
  child.kill('SIGKILL');
  return { problem: `redis-server did not answer PING within ${REDIS_START_MS} ms` };
}
