import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Env } from './stack';

const root = join(__dirname, '..', '..', '..', '..');
const KEYS_CLI = join(root, 'tools', 'scripts', 'keys.mjs');
/** Bounds each CLI run: one that hangs is killed and fails its test. */
const CLI_TIMEOUT_MS = 20_000;

/** How one run of the keys CLI ended: its exit code and all it wrote. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node tools/scripts/keys.mjs <args>` (`npm run keys`) with only `env` (and PATH) in its environment. */
export function runKeysCli(args: readonly string[], env: Env): Promise<CliRun> {
  const child = spawn(process.execPath, [KEYS_CLI, ...args], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
