#!/usr/bin/env node
// Runs every test of the workspace (one Jest run over all projects) and ends with the line CI reads:
// "N passed, N failed". A suite that fails to load counts as a failure. Extra arguments go to Jest.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const folder = mkdtempSync(join(tmpdir(), 'openai-proxy-tests-'));
const report = join(folder, 'jest.json');
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');

const run = spawnSync(
  process.execPath,
  [jest, '--ci', '--json', `--outputFile=${report}`, '--forceExit', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TZ: 'UTC' } },
);

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
if (run.status !== 0 && failed === 0) {
  failed = 1;
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
