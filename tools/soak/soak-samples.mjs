// What the soak samples of one service process: from /proc, its resident memory, open file handles and the TCP
// connections it holds to its upstreams; from its /metrics, the event-loop delay p99 (prom-client's default
// metric, over the time since the last scrape: its histogram is reset at each one), the last-resort errors
// (exceptions and rejections nothing else caught) and the streams in flight. All on 127.0.0.1.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';

/** A scrape slower than this counts as missing (the sample keeps its /proc figures). */
const SCRAPE_TIMEOUT_MS = 1_500;
/** /proc/net/tcp's state code for ESTABLISHED. */
const TCP_ESTABLISHED = '01';

/** Resident memory in MB, from /proc/<pid>/status; undefined once the process is gone. */
function rssMb(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The process's open file handles, and the inodes of those that are sockets. */
function handles(pid) {
  const socketInodes = new Set();
  let count = 0;
  let names;
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return { count: undefined, socketInodes };
  }
  for (const name of names) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${name}`);
      count += 1;
      const socket = /^socket:\[(\d+)\]$/.exec(target);
      if (socket) socketInodes.add(socket[1]);
    } catch {
      // closed between the listing and the read: not open any more
    }
  }
  return { count, socketInodes };
}

/**
 * The ESTABLISHED TCP connections among `socketInodes` whose remote port is one of `ports`, read from the process's
 * view of /proc/net/tcp and tcp6 (the remote address is column 3, `hexip:hexport`; the inode column 10).
 */
function connectionsTo(pid, socketInodes, ports) {
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 10 || columns[3] !== TCP_ESTABLISHED) continue;
      const remotePort = Number.parseInt(columns[2].split(':')[1], 16);
      if (ports.has(remotePort) && socketInodes.has(columns[9])) count += 1;
    }
  }
  return count;
}

/** What /proc shows of `service` ({ pid, upstreamPorts: Set }) now. */
export function sampleProcess(service) {
  const { count, socketInodes } = handles(service.pid);
  return {
    rssMb: rssMb(service.pid),
    fds: count,
    upstreamSockets: count === undefined ? undefined : connectionsTo(service.pid, socketInodes, service.upstreamPorts),
  };
}

/** GETs `url` on a connection of its own (closed after the answer), bounded; the body, or undefined. */
export function getText(url) {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: SCRAPE_TIMEOUT_MS }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (part) => {
        text += part;
      });
      response.once('end', () => resolve(response.statusCode === 200 ? text : undefined));
      response.once('error', () => resolve(undefined));
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}

/** The sum of a metric's samples (every label set) in Prometheus text; undefined when it has none. */
export function metricValue(text, name) {
  let total;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

/** What the service's /metrics says now; the event-loop figure covers the time since the previous scrape. */
export async function scrapeMetrics(base) {
  const text = await getText(`${base}/metrics`);
  if (text === undefined) return { scraped: false };
  const lagSeconds = metricValue(text, 'nodejs_eventloop_lag_p99_seconds');
  return {
    scraped: true,
    eventLoopP99Ms: lagSeconds === undefined ? undefined : lagSeconds * 1000,
    // A labelled counter has no sample until its first increment: none means zero.
    lastResortErrors: metricValue(text, 'process_last_resort_errors_total') ?? 0,
    streamsInFlight: metricValue(text, 'http_streams_in_flight'),
  };
}

/** One sample of every service, /proc first (so the scrape's own connection is not counted), then /metrics. */
export async function sampleServices(services) {
  const processes = services.map((service) => sampleProcess(service));
  const metrics = await Promise.all(services.map((service) => scrapeMetrics(service.base)));
  return Object.fromEntries(
    services.map((service, index) => [service.name, { ...processes[index], ...metrics[index] }]),
  );
}

/** The least-squares slope of `points` ([x, y] pairs); NaN with fewer than two distinct x. */
export function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const [x, y] of points) {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  }
  return denominator === 0 ? NaN : numerator / denominator;
}

/** The value at `fraction` (0..1) of `values` sorted; NaN when empty. */
export function percentile(values, fraction) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
