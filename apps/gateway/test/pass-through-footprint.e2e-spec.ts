import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const GATEWAY_MAIN = join(root, 'apps/gateway/dist/main.js');
/** What team mode brings: the tokenizer's tables (about 70 MB) and the database and Redis drivers. */
const TEAM_MODULES = ['gpt-tokenizer', 'ioredis', 'pg', 'better-sqlite3', 'kysely'];
const STARTED_WITHIN_MS = 15_000;

/**
 * Starts the built gateway (npm test builds first) on a port of its own choosing, waits until it listens, and
 * answers which of TEAM_MODULES it has loaded.
 */
function loadedTeamModules(env: Record<string, string>): Promise<string[]> {
  const probe = `
    const { Server } = require('node:http');
    const listen = Server.prototype.listen;
    Server.prototype.listen = function (...args) {
      this.once('listening', () => {
        const loaded = Object.keys(require.cache);
        const names = ${JSON.stringify(TEAM_MODULES)}.filter((name) => loaded.some((path) => path.includes('/node_modules/' + name + '/')));
        process.stdout.write(JSON.stringify(names) + '\\n');
        process.exit(0);
      });
      return listen.apply(this, args);
    };
    require(${JSON.stringify(GATEWAY_MAIN)});
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', probe], {
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), STARTED_WITHIN_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = output.split('\n').find((candidate) => candidate.startsWith('['));
      if (code !== 0 || line === undefined) {
        reject(new Error(`the gateway did not start (exit ${String(code)}): ${errors.slice(-500)}`));
        return;
      }
      resolve(JSON.parse(line) as string[]);
    });
  });
}

describe('the pass-through gateway carries nothing of team mode', () => {
  it('should load none of the tokenizer, database or Redis modules with GATEWAY_KEYS=off', async () => {
    await expect(loadedTeamModules({ GATEWAY_KEYS: 'off' })).resolves.toEqual([]);
  });

  it('should load the database modules once gateway keys are accepted (the tokenizer at its first estimate)', async () => {
    const loaded = await loadedTeamModules({ GATEWAY_KEYS: 'required', DATABASE_URL: 'sqlite::memory:' });
    expect(loaded).toEqual(expect.arrayContaining(['kysely', 'better-sqlite3']));
    expect(loaded).not.toContain('gpt-tokenizer');
  });
});
