// Keeps the services running as a process manager would: a service that exits unexpectedly is started again
// after a backoff that doubles from RESTART_BASE_MS to RESTART_MAX_MS (back to the base once it stayed up
// STABLE_MS); one that keeps dying right at start (a bad configuration exits at once, code 1) makes the
// launcher stop everything after MAX_QUICK_EXITS such exits in a row. Only stop() (Ctrl-C, SIGTERM) stops all.
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
   * @param onGiveUp called once when a service kept crashing at start
   */
  constructor(services, log, onGiveUp) {
    this.log = log;
    this.onGiveUp = onGiveUp;
    this.stopping = false;
    this.services = services.map((service) => ({
      ...service,
      child: undefined,
      startedAt: 0,
      restarts: 0,
      quickExits: 0,
      backoffMs: RESTART_BASE_MS,
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
    const child = spawn(process.execPath, [service.main], { env: service.env, stdio: this.log.childStdio });
    service.child = child;
    this.log.follow(service.name, child);
    this.log.write('info', `${service.name} started (pid ${child.pid})`, { child: service.name, pid: child.pid });
    child.once('exit', (code, signal) => this.exited(service, child, code, signal));
  }

  exited(service, child, code, signal) {
    if (service.child === child) {
      service.child = undefined;
    }
    if (this.stopping) {
      return;
    }
    const upMs = Date.now() - service.startedAt;
    if (upMs >= STABLE_MS) {
      service.backoffMs = RESTART_BASE_MS;
    }
    service.quickExits = upMs < QUICK_EXIT_MS ? service.quickExits + 1 : 0;
    const how = describeExit(code, signal);
    if (service.quickExits >= MAX_QUICK_EXITS) {
      this.log.write(
        'error',
        `${service.name} exited (${how}) within ${QUICK_EXIT_MS / 1000} s of starting ${MAX_QUICK_EXITS} times in a row; ` +
          'stopping all (see its last lines above: a bad setting exits at once)',
        { child: service.name },
      );
      this.onGiveUp();
      return;
    }
    const delayMs = service.backoffMs;
    service.backoffMs = Math.min(service.backoffMs * 2, RESTART_MAX_MS);
    service.restarts += 1;
    this.log.write(
      'warn',
      `${service.name} exited (${how}) after ${Math.round(upMs / 100) / 10} s; restart ${service.restarts} in ${delayMs} ms`,
      { child: service.name, restart: service.restarts, delayMs },
    );
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
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
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
