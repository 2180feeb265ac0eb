// Team mode's state for a bench run: a temporary SQLite team database holding one gateway key, and a private
// Redis (Debian's redis-server) on a free loopback port. Both go when the run stops (processes.mjs stopAll).
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
 * The bench key's limits: all three set, so every request runs the whole reservation (requests, tokens and
 * budget), and each far above what a run can spend, so none ever refuses.
 */
const BENCH_KEY = {
  name: 'bench',
  models: [],
  rpm: 1_000_000_000,
  tpm: 1_000_000_000_000,
  budgetUsd: 1_000_000,
  budgetPeriod: 'monthly',
  expiresAt: null,
};

/** A temporary folder for the run's team files, removed by stopAll. */
export function teamFolder() {
  const folder = mkdtempSync(join(tmpdir(), 'openai-proxy-bench-team-'));
  removeOnStop(folder);
  return folder;
}

/**
 * A team database in `folder` (SQLite, migrated) with the bench's gateway key, made with the gateway's own store
 * before any gateway opens the file; the key is a secret of the run, never printed.
 */
export async function teamDatabaseWithKey(folder) {
  const { KyselyKeyStore, openTeamDatabase } = await import('@openai-proxy/gateway-data-access-team');
  const databaseUrl = `sqlite:${join(folder, 'team.db')}`;
  const database = await openTeamDatabase(databaseUrl);
  try {
    const created = await new KyselyKeyStore(database.db).create(BENCH_KEY);
    return { databaseUrl, key: created.key };
  } finally {
    await database.close();
  }
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
