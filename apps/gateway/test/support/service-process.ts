import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type BackendServiceName,
  SERVICES_MANIFEST,
  type ServiceName,
  backendServices,
} from '@openai-proxy/util-services';
import { freePort, waitUntilReady } from './launcher-process';

const root = join(__dirname, '..', '..', '..', '..');

/** The built entry point of a service, what `npm start` runs. */
function mainOf(name: ServiceName): string {
  return join(root, 'apps', name, 'dist', 'main.js');
}

/** How long a built service may take to answer its /readyz after it was spawned. */
const READY_WITHIN_MS = 20_000;

/** A URL where nothing listens (the discard port, which needs root to bind): a backend the gateway cannot reach. */
export const NOWHERE_URL = 'http://127.0.0.1:9';

/** How a service process ended: its exit code (null when a signal ended it) and when. */
export interface ServiceExit {
  code: number | null;
  at: number;
}

/**
 * One built service (`apps/<name>/dist/main.js`, what `npm start` runs) as a child process on a free port of
 * 127.0.0.1, with only the environment a test gives it: signals reach it as they would in production.
 */
export class ServiceProcess {
  /** Its stdout and stderr lines, to explain a failure. */
  readonly output: string[] = [];
  readonly exit: Promise<ServiceExit>;
  private readonly child: ChildProcess;

  private constructor(
    readonly name: ServiceName,
    readonly url: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [mainOf(name)], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env, PORT: new URL(url).port },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exit = new Promise((resolve) => this.child.once('exit', (code) => resolve({ code, at: performance.now() })));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream !== null) {
        createInterface({ input: stream }).on('line', (line) => this.output.push(line));
      }
    }
  }

  /** Spawns `name` on a free port and resolves once its /readyz answers 200 (it is stopped when it never does). */
  static async start(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
    if (!existsSync(mainOf(name))) {
      throw new Error(`${mainOf(name)} is missing: the tests run the built services (npm test builds them first)`);
    }
    const service = new ServiceProcess(name, `http://127.0.0.1:${await freePort()}`, env);
    try {
      await waitUntilReady(`${service.url}/readyz`, READY_WITHIN_MS);
    } catch (error) {
      await service.stop();
      throw new Error(`${String(error)}; ${name} wrote:\n${service.output.join('\n')}`);
    }
    return service;
  }

  /** The port it listens on. */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Sends `signal` while it runs; returns when it was sent (`performance.now()`). */
  signal(signal: NodeJS.Signals): number {
    if (this.running) {
      this.child.kill(signal);
    }
    return performance.now();
  }

  /** Kills it (SIGKILL) unless it already exited, and waits for the exit: for `finally` and `afterAll`. */
  async stop(): Promise<void> {
    this.signal('SIGKILL');
    await this.exit;
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/**
 * The gateway's service URL variables (`OPENAI_RELAY_URL`, …): `urls` for the services given, NOWHERE_URL for the
 * others, so a test's gateway never reaches a service someone else runs on a default port.
 */
export function gatewayServiceUrls(urls: Partial<Record<BackendServiceName, string>>): Record<string, string> {
  const byName: Readonly<Record<string, string | undefined>> = urls;
  return Object.fromEntries(
    backendServices(SERVICES_MANIFEST).map((service) => [service.urlVariable, byName[service.name] ?? NOWHERE_URL]),
  );
}
