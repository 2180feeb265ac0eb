import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { startFakeOpenAi } from '@openai-proxy/testing-fakes';
import { SERVICES_MANIFEST } from '@openai-proxy/util-services';
import { type Ports, exited, freePort, freePorts, portEnvironment, waitUntilReady } from './support/launcher-process';

const root = join(__dirname, '..', '..', '..');

describe('npm run demo (tools/scripts/launch.mjs --demo)', () => {
  it('should start the four services against the fake upstreams and stop them all on SIGINT', async () => {
    const ports = await freePorts();
    const { gateway } = ports;
    const [relay, claude, bard] = [ports['openai-relay'], ports['claude-bridge'], ports['bard-bridge']];
    const launcher = spawn(process.execPath, [join(root, 'tools/scripts/launch.mjs'), '--demo'], {
      cwd: root,
      env: { ...process.env, ...portEnvironment(ports), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const exit = exited(launcher);
    try {
      await waitUntilReady(`http://127.0.0.1:${gateway}/readyz`, 20_000);
      for (const port of [relay, claude, bard]) {
        await waitUntilReady(`http://127.0.0.1:${port}/healthz`, 5_000);
      }
      const client = new OpenAI({ apiKey: 'sk-demo', baseURL: `http://127.0.0.1:${gateway}/openai/v1`, maxRetries: 0 });
      const completion = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0]?.message.content).toContain('You said: hi');
    } finally {
      launcher.kill('SIGINT');
    }
    expect(await exit).toBe(0);
    const stillUp = await fetch(`http://127.0.0.1:${relay}/healthz`).then(
      () => true,
      () => false,
    );
    expect(stillUp).toBe(false);
  }, 40_000);
});

describe('service start with a bad configuration', () => {
  it('should exit 1 and name every bad variable', async () => {
    const child = spawn(process.execPath, [join(root, 'apps/openai-relay/dist/main.js')], {
      env: { ...process.env, PORT: 'eighty', OPENAI_API_BASE: 'ftp://nowhere', LOG_LEVEL: 'chatty' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    expect(await exited(child)).toBe(1);
    for (const name of ['PORT', 'OPENAI_API_BASE', 'LOG_LEVEL']) {
      expect(stderr).toContain(name);
    }
  });
});

/** The launcher as a child process, its stdout and stderr kept line by line. */
class RunningLauncher {
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  readonly exit: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], ports: Ports, extraEnv: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [join(root, 'tools/scripts/launch.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, ...portEnvironment(ports), LOG_LEVEL: 'info', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exit = exited(this.child);
    for (const [stream, lines] of [
      [this.child.stdout, this.lines],
      [this.child.stderr, this.errors],
    ] as const) {
      if (stream !== null) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          for (const waiter of [...this.waiters]) waiter();
        });
      }
    }
  }

  /** The launcher's own JSON lines (LOG_FORMAT=json). */
  get launcherLogs(): Array<{ msg: string; child?: string; pid?: number; level: number }> {
    return this.lines
      .filter((line) => line.includes('"service":"launcher"'))
      .map((line) => JSON.parse(line) as { msg: string; child?: string; pid?: number; level: number });
  }

  /** Process ids of each start of `name`, in order. */
  pidsOf(name: string): number[] {
    return this.launcherLogs
      .filter((log) => log.child === name && log.msg.startsWith(`${name} started`))
      .map((log) => log.pid ?? 0);
  }

  /** Resolves when a stdout or stderr line matches (bounded wait). */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = [...this.lines, ...this.errors].find(match);
        if (found !== undefined) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching launcher line after ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  signal(name: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(name);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForAll(ports: Ports): Promise<void> {
  await waitUntilReady(`http://127.0.0.1:${ports.gateway}/readyz`, 20_000);
  for (const name of ['openai-relay', 'claude-bridge', 'bard-bridge'] as const) {
    await waitUntilReady(`http://127.0.0.1:${ports[name]}/healthz`, 5_000);
  }
}

async function chatThroughGateway(ports: Ports): Promise<string | null | undefined> {
  const client = new OpenAI({
    apiKey: 'sk-demo',
    baseURL: `http://127.0.0.1:${ports.gateway}/openai/v1`,
    maxRetries: 0,
    timeout: 5_000,
  });
  const completion = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
  });
  return completion.choices[0]?.message.content;
}

describe('launcher supervision (tools/scripts/launch.mjs)', () => {
  // Regression: when one service of `npm start` died, the launcher stopped all four.
  it('should restart a service killed with SIGKILL while the others keep running, and exit 0 on SIGTERM', async () => {
    const ports = await freePorts();
    const launcher = new RunningLauncher(['--demo'], ports, { LOG_FORMAT: 'json' });
    try {
      await waitForAll(ports);
      const [relayPid] = launcher.pidsOf('openai-relay');
      const others = ['claude-bridge', 'bard-bridge', 'gateway'].flatMap((name) => launcher.pidsOf(name));
      expect(others).toHaveLength(3);
      process.kill(relayPid ?? 0, 'SIGKILL');
      await launcher.waitForLine((line) => line.includes('"msg":"openai-relay exited (SIGKILL)'), 5_000);
      await launcher.waitForLine(
        (line) => line.includes('"msg":"openai-relay started') && !line.includes(`(pid ${relayPid})`),
        5_000,
      );
      await waitUntilReady(`http://127.0.0.1:${ports['openai-relay']}/healthz`, 10_000);
      expect(await chatThroughGateway(ports)).toContain('You said: hi');
      expect(others.every(alive)).toBe(true);
      expect(['claude-bridge', 'bard-bridge', 'gateway'].map((name) => launcher.pidsOf(name).length)).toEqual([
        1, 1, 1,
      ]);
      const pids = [...others, ...launcher.pidsOf('openai-relay').slice(1)];
      launcher.signal('SIGTERM');
      expect(await launcher.exit).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      launcher.signal('SIGKILL');
      await launcher.exit;
    }
  }, 60_000);

  // Regression: after 5 quick exits in a row the launcher stopped every service (exit 1) instead of retrying.
  it('should keep restarting a service that keeps crashing at start, warn once, and exit 0 on SIGTERM', async () => {
    const ports = await freePorts();
    const launcher = new RunningLauncher(['--only', 'openai-relay,bard-bridge'], ports, {
      LOG_FORMAT: 'json',
      OPENAI_API_BASE: 'ftp://nowhere',
      LAUNCHER_RESTART_MAX_MS: '100',
    });
    try {
      await launcher.waitForLine((line) => line.includes('openai-relay keeps exiting within 5 s of starting'), 20_000);
      await launcher.waitForLine(
        (line) => line.includes('"msg":"openai-relay exited (code 1)') && line.includes('restart 7 in 100 ms'),
        10_000,
      );
      const warnings = launcher.launcherLogs.filter((log) => log.msg.includes('keeps exiting'));
      expect(warnings.map((log) => log.msg)).toEqual([
        'openai-relay keeps exiting within 5 s of starting (5 times in a row): check its configuration ' +
          '(its last lines above); retrying every 0.1 s',
      ]);
      const bardPids = launcher.pidsOf('bard-bridge');
      expect(bardPids.filter(alive)).toHaveLength(1);
      launcher.signal('SIGTERM');
      expect(await launcher.exit).toBe(0);
      expect([...bardPids, ...launcher.pidsOf('openai-relay')].filter(alive)).toEqual([]);
    } finally {
      launcher.signal('SIGKILL');
      await launcher.exit;
    }
  }, 40_000);

  it('should print one readable line per log line, prefixed with the service, when the output is pretty', async () => {
    const ports = await freePorts();
    const launcher = new RunningLauncher(['--only', 'openai-relay'], ports, { LOG_FORMAT: 'pretty' });
    try {
      await waitUntilReady(`http://127.0.0.1:${ports['openai-relay']}/healthz`, 20_000);
      expect((await fetch(`http://127.0.0.1:${ports['openai-relay']}/no-such-route`)).status).toBe(404);
      await launcher.waitForLine((line) => line.includes('GET /no-such-route 404'), 5_000);
      launcher.signal('SIGTERM');
      expect(await launcher.exit).toBe(0);
      const lines = launcher.lines.filter((line) => line !== '');
      expect(lines.filter((line) => !/^(launcher|openai-relay) +\| /.test(line))).toEqual([]);
      // One prefix column for every service of the manifest, as wide as the longest name.
      const width = Math.max('launcher'.length, ...SERVICES_MANIFEST.services.map((service) => service.name.length));
      expect([...new Set(lines.map((line) => line.indexOf(' | ')))]).toEqual([width]);
      expect(lines.filter((line) => line.includes('{"level"') || line.includes('Mapped {'))).toEqual([]);
      expect(lines.some((line) => line.startsWith('openai-relay') && line.includes('Nest application'))).toBe(true);
    } finally {
      launcher.signal('SIGKILL');
      await launcher.exit;
    }
  }, 40_000);
});

/**
 * Runs the Supervisor in a node child with a log that prints JSON lines, `script` after `supervisor.startAll()`;
 * the child stops the supervisor and exits 0 once `restarts` restarts were logged (or exits 3 after 4 s).
 */
async function superviseIn(
  services: string,
  script: string,
  restarts: number,
): Promise<{ code: number | null; logs: Array<{ level: string; msg: string }> }> {
  const supervisorUrl = pathToFileURL(join(root, 'tools/scripts/launch/supervisor.mjs')).href;
  const source = `
    import { Supervisor } from ${JSON.stringify(supervisorUrl)};
    let restarts = 0;
    const log = {
      childStdio: 'ignore',
      follow() {},
      write(level, msg) {
        process.stdout.write(JSON.stringify({ level, msg }) + '\\n');
        if (msg.includes('; restart ') && ++restarts === ${restarts}) {
          void supervisor.stop().then(() => process.exit(0));
        }
      },
    };
    const supervisor = new Supervisor(${services}, log, { restartMaxMs: 20 });
    supervisor.startAll();
    ${script}
    setTimeout(() => process.exit(3), 4_000).unref();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await exited(child);
  const logs = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string });
  return { code, logs };
}

describe('Supervisor', () => {
  // Regression: a spawn that failed threw out of the supervisor and crashed the launcher.
  it('should log a service that cannot be spawned and retry it when spawn throws', async () => {
    const { code, logs } = await superviseIn(
      `[{ name: 'huge-env', main: 'never-started.js', env: { HUGE: 'x'.repeat(4_000_000) } }]`,
      '',
      6,
    );
    expect(code).toBe(0);
    const restarts = logs.filter((log) => log.msg.startsWith('huge-env could not start (spawn E2BIG); restart'));
    expect(restarts).toHaveLength(6);
    expect(logs.filter((log) => log.msg.includes('keeps exiting'))).toHaveLength(1);
    expect(logs.some((log) => log.msg.includes('started (pid'))).toBe(false);
  });

  // Regression: an 'error' event of a child process had no listener and crashed the launcher.
  it('should log an error event of a running service without restarting it a second time', async () => {
    const { code, logs } = await superviseIn(
      `[{ name: 'quick', main: 'no-such-script.js', env: {} }]`,
      `supervisor.services[0].child.emit('error', new Error('kill EPERM'));`,
      2,
    );
    expect(code).toBe(0);
    expect(logs).toContainEqual({ level: 'error', msg: 'quick: kill EPERM' });
    expect(logs.filter((log) => log.msg.startsWith('quick exited (code 1)'))).toHaveLength(2);
    expect(logs.filter((log) => log.msg.startsWith('quick started (pid'))).toHaveLength(2);
  });
});

describe('a second gateway replica (tools/scripts/launch.mjs --only gateway)', () => {
  // `npm start`, then `GATEWAY_PORT=3100 npm start -- --only gateway` with the same environment.
  it('should start one more gateway on its GATEWAY_PORT in front of the running services, and only that', async () => {
    const upstream = await startFakeOpenAi();
    const sameEnvironment = {
      LOG_FORMAT: 'json',
      OPENAI_API_BASE: upstream.url,
      OPENAI_COMPATIBLE_PROVIDERS: `deepseek=${upstream.url}`,
    };
    const ports = await freePorts();
    const replicaPorts = { ...ports, gateway: await freePort() };
    const stack = new RunningLauncher([], ports, sameEnvironment);
    let replica: RunningLauncher | undefined;
    try {
      await waitForAll(ports);
      const second = new RunningLauncher(['--only', 'gateway'], replicaPorts, sameEnvironment);
      replica = second;
      await waitUntilReady(`http://127.0.0.1:${replicaPorts.gateway}/readyz`, 20_000);
      expect(SERVICES_MANIFEST.services.map((service) => second.pidsOf(service.name).length)).toEqual(
        SERVICES_MANIFEST.services.map((service) => (service.role === 'edge' ? 1 : 0)),
      );
      const readiness = await (await fetch(`http://127.0.0.1:${replicaPorts.gateway}/readyz`)).text();
      for (const service of SERVICES_MANIFEST.services.filter(({ role }) => role === 'backend')) {
        expect(readiness).toContain(`"${service.name}":{"ok":true`);
      }
      expect(await chatThroughGateway(replicaPorts)).toContain('You said: hi');
      const stackPids = SERVICES_MANIFEST.services.flatMap((service) => stack.pidsOf(service.name));
      second.signal('SIGTERM');
      expect(await second.exit).toBe(0);
      // The replica leaves; the stack it stood in front of keeps serving.
      expect(stackPids.filter(alive)).toEqual(stackPids);
      expect(await chatThroughGateway(ports)).toContain('You said: hi');
    } finally {
      replica?.signal('SIGKILL');
      await replica?.exit;
      stack.signal('SIGTERM');
      await stack.exit;
      await upstream.close();
    }
  }, 60_000);

  it('should hand the team-mode variables to the gateway it starts, and log none of their values', async () => {
    const ports = await freePorts();
    const team = {
      GATEWAY_KEYS: 'sometimes',
      GATEWAY_ADMIN_TOKEN: 'tok-0123',
      DATABASE_URL: 'mysql://ledger:db-pass-4567@127.0.0.1:3306/ledger',
      REDIS_URL: 'http://:redis-pass-89@127.0.0.1:6379',
    };
    const launcher = new RunningLauncher(['--only', 'gateway'], ports, {
      LOG_FORMAT: 'json',
      LAUNCHER_RESTART_MAX_MS: '100',
      ...team,
    });
    try {
      await launcher.waitForLine((line) => line.includes('"msg":"gateway exited (code 1)'), 20_000);
      const output = [...launcher.lines, ...launcher.errors].join('\n');
      expect(Object.keys(team).filter((name) => !output.includes(name))).toEqual([]);
      expect(['tok-0123', 'db-pass-4567', 'redis-pass-89'].filter((value) => output.includes(value))).toEqual([]);
      launcher.signal('SIGTERM');
      expect(await launcher.exit).toBe(0);
    } finally {
      launcher.signal('SIGKILL');
      await launcher.exit;
    }
  }, 40_000);
});
