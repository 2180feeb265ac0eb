#!/usr/bin/env node
// Runs every test of the workspace (one Jest run over all projects) and ends with the line CI reads:
// "N passed, N failed". A suite that fails to load counts as a failure, and so does a run that leaks: Jest runs
// without its force-exit flag, so a server, socket or timer left open keeps it (or one of its workers) alive; the run
// is then stopped and counted as failed. Extra arguments go to Jest.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const folder = mkdtempSync(join(tmpdir(), 'openai-proxy-tests-'));
const report = join(folder, 'jest.json');
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
/** How long Jest may take to exit once its report is written; longer means something is still open. */
const EXIT_GRACE_MS = 10_000;
const REPORT_POLL_MS = 500;
/** What Jest prints when it had to kill a worker that would not exit (a leaked handle in that worker). */
const LEAK_SIGNS = ['A worker process has failed to exit gracefully', 'Jest did not exit one second after'];

function runJest() {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [jest, '--ci', '--json', `--outputFile=${report}`, ...process.argv.slice(2)],
      {
        cwd: root,
        stdio: ['inherit', 'inherit', 'pipe'],
        env: { ...process.env, TZ: 'UTC' },
      },
    );
    let leakSeen = false;
    let stuck = false;
    let tail = '';
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      const text = tail + chunk.toString('utf8');
      leakSeen ||= LEAK_SIGNS.some((sign) => text.includes(sign));
      tail = text.slice(-200);
    });
    let killer;
    const watch = setInterval(() => {
      if (killer === undefined && existsSync(report)) {
        killer = setTimeout(() => {
          stuck = true;
          child.kill('SIGKILL');
        }, EXIT_GRACE_MS);
      }
    }, REPORT_POLL_MS);
    child.once('close', (status) => {
      clearInterval(watch);
      clearTimeout(killer);
      resolve({ status, leaked: leakSeen || stuck, stuck });
    });
  });
}

const run = await runJest();
let passed = 0;
let failed = 0;
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed = result.numPassedTests;
  failed = result.numFailedTests + result.numRuntimeErrorTestSuites;
} catch {
  failed = Math.max(1, failed);
}
rmSync(folder, { recursive: true, force: true });
if (run.leaked) {
  process.stderr.write(
    `\nThe test run leaked: ${run.stuck ? `Jest was still running ${EXIT_GRACE_MS / 1000} s after its last test` : 'a Jest worker would not exit'}. ` +
      'Something a test opened (server, socket, agent, timer) was not closed; find it with: npm test -- --detectOpenHandles\n',
  );
  failed += 1;
}
if (run.status !== 0 && failed === 0) {
  failed = 1;
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
