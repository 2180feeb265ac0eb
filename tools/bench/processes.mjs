// The processes of a bench run: spawned and tracked (so one call stops them all), their reported ports, and
// waiting until one answers. Shared by bench.mjs and instructions.mjs.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';

const children = [];
const folders = [];

/** Spawns `command` with stdout piped (for the port line) and tracks it for stopAll. */
export function spawnTracked(name, command, args, env, stderr = 'inherit') {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', stderr] });
  child.benchName = name;
  children.push(child);
  return child;
}

/** The port a child printed as `{"port":N}` on stdout (the fake upstream and the floor do). */
export function reportedPort(child) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((candidate) => candidate.startsWith('{"port"'));
      if (line) resolve(JSON.parse(line).port);
    });
    child.once('exit', (code) => reject(new Error(`${child.benchName} exited with ${code}`)));
  });
}

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Asks `url` until it answers 2xx, each attempt bounded, the whole wait bounded by `deadlineMs`. */
export async function waitUntilOk(url, { init = {}, deadlineMs = 20_000, attemptMs = 1_000, pauseMs = 100 } = {}) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { ...init, signal: AbortSignal.timeout(attemptMs) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`${url} did not answer within ${deadlineMs} ms`);
}

/** Has stopAll remove `folder` (a run's temporary files) once the processes that use it are stopped. */
export function removeOnStop(folder) {
  folders.push(folder);
}

export function stopAll() {
  for (const child of children) child.kill('SIGKILL');
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
}
