// Keeps the services running as a process manager would: a service that exits unexpectedly (or cannot be
// spawned at all) is started again after a backoff that doubles from RESTART_BASE_MS to the cap (RESTART_MAX_MS
// unless the launcher sets another), back to the base once it stayed up STABLE_MS. One that keeps dying right at
// start (a bad configuration exits at once, code 1) gets one warning after MAX_QUICK_EXITS such exits in a row
// and is then retried at the cap. Only stop() (Ctrl-C, SIGTERM) stops all.
import { spawn } from 'node:child_process';

export const RESTART_BASE_MS = 500;
export const RESTART_MAX_MS = 30_000;
export const STABLE_MS = 60_000;
/** An exit this soon after starting counts as a crash at start. */
export const QUICK_EXIT_MS = 5_000;
export const MAX_QUICK_EXITS = 5;

function describeExit(code, signal) {
  return signal === null ? `code ${code}` : signal;
}

export class Supervisor {
  /**
   * @param services `{ name, main, env }` for each service to run
   * @param log a LogOutput
   * @param options `{ restartMaxMs }`: the backoff cap (RESTART_MAX_MS by default)
   */
  constructor(services, log, options = {}) {
    this.log = log;
    this.restartMaxMs = options.restartMaxMs ?? RESTART_MAX_MS;
    this.restartBaseMs = Math.min(RESTART_BASE_MS, this.restartMaxMs);
    this.stopping = false;
    this.services = services.map((service) => ({
      ...service,
      child: undefined,
      startedAt: 0,
      restarts: 0,
      quickExits: 0,
      backoffMs: this.restartBaseMs,
      timer: undefined,
    }));
  }

  startAll() {
    for (const service of this.services) {
      this.start(service);
    }
  }

  start(service) {
    service.timer = undefined;
    service.startedAt = Date.now();
    let child;
    try {
      child = spawn(process.execPath, [service.main], { env: service.env, stdio: this.log.childStdio });
    } catch (error) {
      // Some spawn failures (E2BIG, EINVAL) throw instead of emitting 'error': the same as a failed start.
      this.exited(service, undefined, `could not start (${error.message})`);
      return;
    }
    service.child = child;
    let ended = false;
    const end = (what) => {
      if (!ended) {
        ended = true;
        this.exited(service, child, what);
      }
    };
    child.once('exit', (code, signal) =>
      end(`exited (${describeExit(code, signal)}) after ${Math.round((Date.now() - service.startedAt) / 100) / 10} s`),
    );
    // Without a pid the process never started (ENOENT, EACCES, EAGAIN): an exit. With one, the error is about
    // a running process (a failed kill or send): logged only, as restarting it would start a second one.
    child.on('error', (error) => {
      if (child.pid === undefined) {
        end(`could not start (${error.message})`);
      } else {
        this.log.write('error', `${service.name}: ${error.message}`, { child: service.name });
      }
    });
    if (child.pid !== undefined) {
      this.log.follow(service.name, child);
      this.log.write('info', `${service.name} started (pid ${child.pid})`, { child: service.name, pid: child.pid });
    }
  }

  /** `what` says how the run ended ("exited (code 1) after 0.3 s", "could not start (spawn ENOENT)"). */
  exited(service, child, what) {
    if (service.child === child) {
      service.child = undefined;
    }
    if (this.stopping) {
      return;
    }
    const upMs = Date.now() - service.startedAt;
    if (upMs >= STABLE_MS) {
      service.backoffMs = this.restartBaseMs;
    }
    service.quickExits = upMs < QUICK_EXIT_MS ? service.quickExits + 1 : 0;
    if (service.quickExits === MAX_QUICK_EXITS) {
      service.backoffMs = this.restartMaxMs;
      this.log.write(
        'warn',
        `${service.name} keeps exiting within ${QUICK_EXIT_MS / 1000} s of starting (${MAX_QUICK_EXITS} times in a row): ` +
          `check its configuration (its last lines above); retrying every ${this.restartMaxMs / 1000} s`,
        { child: service.name },
      );
    }
    const delayMs = service.backoffMs;
    service.backoffMs = Math.min(service.backoffMs * 2, this.restartMaxMs);
    service.restarts += 1;
    this.log.write('warn', `${service.name} ${what}; restart ${service.restarts} in ${delayMs} ms`, {
      child: service.name,
      restart: service.restarts,
      delayMs,
    });
    service.timer = setTimeout(() => this.start(service), delayMs);
  }

  /** Sends SIGTERM to every running service (each drains) and resolves when all have exited. */
  stop() {
    this.stopping = true;
    const exits = [];
    for (const service of this.services) {
      clearTimeout(service.timer);
      service.timer = undefined;
      const child = service.child;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        exits.push(new Promise((resolve) => child.once('exit', resolve)));
        child.kill('SIGTERM');
      }
    }
    return Promise.all(exits);
  }

  /** Stops every running service at once (after the drain deadline, or a second Ctrl-C). */
  kill() {
    for (const service of this.services) {
      service.child?.kill('SIGKILL');
    }
  }
}
