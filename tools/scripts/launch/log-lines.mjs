// Log output of the launcher: its own lines in the services' pino JSON format, and the services' lines either
// passed through untouched (JSON, for containers, CI and log collectors) or, in a terminal, one readable line
// each, prefixed with the service name.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** Pretty when LOG_FORMAT=pretty, JSON when LOG_FORMAT=json, else pretty only when stdout is a terminal. */
export function chooseLogFormat(env, stdout) {
  if (env.LOG_FORMAT === 'pretty' || env.LOG_FORMAT === 'json') {
    return env.LOG_FORMAT;
  }
  return stdout.isTTY ? 'pretty' : 'json';
}

/** An access line (AccessLog's shape) as `GET /path 200 12 ms`; any other line keeps its message. */
function readableMessage(log, messageKey) {
  const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
  const request = log.req;
  if (request !== null && typeof request === 'object' && log.res !== null && typeof log.res === 'object') {
    const aborted = log.aborted === true ? ' (client left)' : '';
    return `${context}${request.method} ${request.url} ${log.res.statusCode} ${log.responseTime} ms${aborted}`;
  }
  return `${context}${log[messageKey] ?? ''}`;
}

/** One formatter for every line: pino-pretty on one line, without the fields the prefix and message carry. */
function createPrettifier() {
  const { prettyFactory, isColorSupported } = createRequire(import.meta.url)('pino-pretty');
  return prettyFactory({
    colorize: isColorSupported,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,context,req,res,responseTime,aborted,child,restart,delayMs',
    messageFormat: readableMessage,
  });
}

/** Where log lines go, in the chosen format. */
export class LogOutput {
  /** `names`: the services whose lines it prints (the prefix column fits the longest, or "launcher"). */
  constructor(format, names, stdout = process.stdout, stderr = process.stderr) {
    this.format = format;
    this.nameWidth = Math.max('launcher'.length, ...names.map((name) => name.length));
    this.stdout = stdout;
    this.stderr = stderr;
    this.prettify = format === 'pretty' ? createPrettifier() : undefined;
  }

  /** How a service's child process gets its stdout and stderr: inherited as they are for JSON. */
  get childStdio() {
    return this.format === 'pretty' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'];
  }

  /** The launcher's own line, in pino's shape (service "launcher"). */
  write(level, message, fields = {}) {
    const line = JSON.stringify({
      level: LEVELS[level],
      time: Date.now(),
      service: 'launcher',
      ...fields,
      msg: message,
    });
    this.line('launcher', line, level === 'error' || level === 'fatal' ? this.stderr : this.stdout);
  }

  /** Reads a child's piped output line by line (pretty format only; inherited streams need nothing). */
  follow(name, child) {
    for (const [source, target] of [
      [child.stdout, this.stdout],
      [child.stderr, this.stderr],
    ]) {
      if (source !== null) {
        createInterface({ input: source, crlfDelay: Infinity }).on('line', (text) => this.line(name, text, target));
      }
    }
  }

  line(name, text, target) {
    if (this.prettify === undefined) {
      target.write(`${text}\n`);
      return;
    }
    const formatted = text.startsWith('{') ? this.prettify(text) : `${text}\n`;
    target.write(`${name.padEnd(this.nameWidth)} | ${formatted}`);
  }
}
