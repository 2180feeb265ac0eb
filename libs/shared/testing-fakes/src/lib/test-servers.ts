import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * Real PostgreSQL and Redis servers for tests, from the machine's own packages (Debian's `postgresql` and
 * `redis-server`), on 127.0.0.1 in a temporary folder. The test run starts one of each (tools/jest/global-setup.ts)
 * and gives their URLs to every test; a test that needs its own (to stop it) starts one here.
 */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (bounded) and removes its folder. */
  stop(): Promise<void>;
}

/** The variables through which the test run hands its servers to the tests. */
export const TEST_POSTGRES_URL = 'TEST_POSTGRES_URL';
export const TEST_REDIS_URL = 'TEST_REDIS_URL';
/** Set instead of the URL when the run could not start the server: why, and how to get it. */
export const TEST_POSTGRES_PROBLEM = 'TEST_POSTGRES_PROBLEM';
export const TEST_REDIS_PROBLEM = 'TEST_REDIS_PROBLEM';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

const POSTGRES_MISSING =
  'PostgreSQL server not found: install it (Debian: apt-get install postgresql) or set TEST_POSTGRES_URL to a server the tests may use';
const REDIS_MISSING =
  'Redis server not found: install it (Debian: apt-get install redis-server) or set TEST_REDIS_URL to a server the tests may use';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port free on 127.0.0.1 right now. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function postgresBinDirectory(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) {
      return join(root, versions[0], 'bin');
    }
  }
  const found = spawnSync('sh', ['-c', 'command -v postgres'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return path === '' ? undefined : join(path, '..');
}

function redisServerBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server || ls /usr/bin/redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0] ?? '';
  return path === '' ? undefined : path;
}

/** PostgreSQL refuses to run as root: then it runs as the Debian package's `postgres` user. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('PostgreSQL cannot run as root and there is no postgres user: run the tests as another user');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(
  ready: () => Promise<boolean>,
  child: ChildProcess,
  what: string,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${what} exited at start (${child.exitCode}): ${log()}`);
    }
    if (await ready()) {
      return;
    }
    await sleep(POLL_MS);
  }
  child.kill('SIGKILL');
  throw new Error(`${what} did not start within ${START_TIMEOUT_MS} ms: ${log()}`);
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function collectOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

/** Starts a PostgreSQL server (trust login for `postgres` on 127.0.0.1, durability off: it is a test). */
export async function startPostgresServer(): Promise<TestServer> {
  const bin = postgresBinDirectory();
  if (bin === undefined) {
    throw new Error(POSTGRES_MISSING);
  }
  const folder = mkdtempSync(join(tmpdir(), 'openai-proxy-pg-'));
  const data = join(folder, 'data');
  const identity = serverIdentity();
  if (identity !== undefined) {
    chownSync(folder, identity.uid, identity.gid);
  }
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'],
    { encoding: 'utf8', timeout: START_TIMEOUT_MS, cwd: folder, ...identity },
  );
  if (init.status !== 0) {
    rmSync(folder, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout || String(init.error)}`);
  }
  const port = await freeLoopbackPort();
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    folder,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ];
  const child = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: folder, ...identity });
  const log = collectOutput(child);
  const ready = async (): Promise<boolean> =>
    (await canConnect(port)) &&
    spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { timeout: 5000 }).status === 0;
  try {
    await waitUntil(ready, child, 'PostgreSQL', log);
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, nothing is waited for.
      await stopChild(child, 'SIGINT');
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a Redis server on 127.0.0.1 that keeps nothing on disk. `port` reuses a port (to restart one). */
export async function startRedisServer(port?: number): Promise<TestServer> {
  const binary = redisServerBinary();
  if (binary === undefined) {
    throw new Error(REDIS_MISSING);
  }
  const folder = mkdtempSync(join(tmpdir(), 'openai-proxy-redis-'));
  const listenPort = port ?? (await freeLoopbackPort());
  const child = spawn(
    binary,
    [
      '--port',
      String(listenPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      folder,
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = collectOutput(child);
  try {
    await waitUntil(() => redisPing(listenPort), child, 'Redis', log);
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${listenPort}`,
    port: listenPort,
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

function sharedServerUrl(variable: string, problemVariable: string, what: string): string {
  const url = process.env[variable];
  if (url !== undefined && url !== '') {
    return url;
  }
  throw new Error(
    process.env[problemVariable] ??
      `${what} for tests is not running: run the tests with npm test (or jest), which starts it`,
  );
}

/** The test run's PostgreSQL server; fails (never skips) with the reason when there is none. */
export function testPostgresUrl(): string {
  return sharedServerUrl(TEST_POSTGRES_URL, TEST_POSTGRES_PROBLEM, 'PostgreSQL');
}

/** The test run's Redis server; fails (never skips) with the reason when there is none. */
export function testRedisUrl(): string {
  return sharedServerUrl(TEST_REDIS_URL, TEST_REDIS_PROBLEM, 'Redis');
}

/** A database of a test's own on the test run's PostgreSQL server. */
export interface TestPostgresDatabase {
  /** Its `postgres://` URL (for `DATABASE_URL`). */
  readonly url: string;
  /** Drops it; connections still open to it are ended. */
  drop(): Promise<void>;
}

async function withPostgresAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database `team_<random>` on the test run's PostgreSQL server, for one test or test file. */
export async function createTestPostgresDatabase(): Promise<TestPostgresDatabase> {
  const name = `team_${randomBytes(6).toString('hex')}`;
  await withPostgresAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(testPostgresUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withPostgresAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
