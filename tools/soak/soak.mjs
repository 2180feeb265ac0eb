#!/usr/bin/env node
// npm run test:soak [-- --quick] [-- --seconds N] : the bounded load and soak of the built services, on 127.0.0.1.
// Starts a fake provider (soak-upstream.mjs: numbered chunks, faults on request), the openai-relay, the
// claude-bridge, a gateway in pass-through mode and a second one in team mode (GATEWAY_KEYS=required, a temporary
// SQLite database, limits in a private Redis when redis-server is installed), then runs
//   A  "500 streams": 500 concurrent translated streams (OpenAI client -> gateway -> claude-bridge -> Anthropic
//      fake), recording the services' event-loop delay p99 and the client's inter-chunk delay;
//   B  "mixed soak" (default 330 s, --quick 40 s, --seconds N): plain, streamed, translated, aborted before and
//      after the first token, faulted by the fake (reset, clean close, stall, error event, 503) and team-mode
//      requests from a bounded number of clients,
// sampling every 2 s each service's RSS, file handles, upstream sockets, event-loop delay and last-resort errors.
// Then it waits (bounded) for handles and sockets to return to the baseline taken before the load, judges the
// goals, writes bench/results/soak.json and soak.svg, prints the summary and exits 1 when a goal is missed.
// Services on CPU 0, the client, the fake and Redis on CPU 1 (when taskset exists). Every loop is bounded in
// count and time; every child is killed at the end, on failure, on SIGINT and at the time limit.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, setGlobalDispatcher } from 'undici';
import { freePort, reportedPort, spawnTracked, stopAll, waitUntilOk } from '../bench/processes.mjs';
import { createGatewayKey, startRedis, teamDatabaseUrl, teamFolder } from '../bench/team.mjs';
import { renderSoakChart } from './soak-chart.mjs';
import { FLEET_STREAM, MIXED_SCENARIOS, Outcome, mixedSchedule, runScenario } from './soak-scenarios.mjs';
import { getText, percentile, sampleServices, slope } from './soak-samples.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');

/** `--seconds N`: phase B's length; a whole number of seconds from 10 to 3600. */
function mixedSeconds() {
  const index = process.argv.indexOf('--seconds');
  if (index === -1) return quick ? 40 : 330;
  const seconds = Number(process.argv[index + 1]);
  if (!Number.isInteger(seconds) || seconds < 10 || seconds > 3600) {
    throw new Error('--seconds takes a whole number of seconds from 10 to 3600');
  }
  return seconds;
}

const MIXED_S = mixedSeconds();
/** Phase B's first seconds, while the heaps grow to their working size, are left out of the RSS trend. */
const RSS_WARM_S = 30;
/** The RSS floor is taken per window this long: at least one of the heap's grow-and-collect cycles. */
const RSS_FLOOR_WINDOW_S = quick ? 10 : 100;
const FLEET_S = quick ? 20 : 45;
const FLEET_STREAMS = 500;
/** Phase A opens its streams this far apart (500 in 2.5 s), so the ramp is not one burst of 500 connects. */
const FLEET_RAMP_STEP_MS = 5;
const MIXED_CLIENTS = 32;
const SAMPLE_MS = 2_000;
/** Samples taken before the load; the last is the baseline (the first scrape's event-loop window is the start). */
const BASELINE_SAMPLES = 2;
/**
 * How long the services may take after the load to close what it opened. The gateways keep idle connections to
 * the relay and the bridge for up to 60 s (undici's keep-alive cap; the services answer `Keep-Alive: timeout=65`),
 * so the wait is bounded above that; it ends as soon as every service is back at its baseline.
 */
const SETTLE_MAX_MS = 75_000;
/**
 * File handles a service may hold above its baseline after the settle wait: one, the sampler's own /metrics
 * connection (opened and closed every 2 s; /proc is read before the scrape, but the previous one's close may still
 * be on its way). Runs so far came back to the baseline exactly. Sockets to upstreams get no tolerance: each one
 * left is an upstream connection nobody closed.
 */
const FD_TOLERANCE = 1;
const UPSTREAM_SOCKET_TOLERANCE = 0;
const RSS_SLOPE_GOAL_MB_PER_MIN = 2;
const EVENT_LOOP_GOAL_MS = 50;
/** The idle timeout of the services facing the fake: a stalled stream ends with an error frame after it. */
const UPSTREAM_IDLE_TIMEOUT_MS = 2_000;
const HARD_LIMIT_MS = (FLEET_S + MIXED_S) * 1000 + SETTLE_MAX_MS + 180_000;
const MAX_SAMPLES = Math.ceil(HARD_LIMIT_MS / SAMPLE_MS);
const SERVICE_NAMES = ['gateway', 'gateway (team)', 'openai-relay', 'claude-bridge'];
/** The services phase A's goal is about: the two hops every one of its streams crosses. */
const FLEET_SERVICES = ['gateway', 'claude-bridge'];

// --- processes -------------------------------------------------------------------------------------------

const pinning = existsSync('/usr/bin/taskset') && cpus().length >= 2;
/** Each service's log summary: error-level lines (pino level 50 and up) and a few of their messages. */
const logs = {};
const exits = [];
let stopping = false;

function launchCommand(name, command, args, env, cpu) {
  return pinning
    ? spawnTracked(name, 'taskset', ['-c', String(cpu), command, ...args], env, 'pipe')
    : spawnTracked(name, command, args, env, 'pipe');
}

/** Counts a service's error-level log lines (JSON, one a line) and keeps its last stderr lines. */
function watchLogs(name, child) {
  const summary = { errorLines: 0, messages: {}, stderrTail: [] };
  logs[name] = summary;
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const level = /"level":(\d+)/.exec(line);
      if (level === null || Number(level[1]) < 50) continue;
      summary.errorLines += 1;
      const message = (/"msg":"([^"]{0,160})/.exec(line)?.[1] ?? 'no message').trim();
      if (message in summary.messages || Object.keys(summary.messages).length < 10)
        summary.messages[message] = (summary.messages[message] ?? 0) + 1;
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    summary.stderrTail = [...summary.stderrTail, ...text.split('\n').filter((line) => line !== '')].slice(-20);
  });
  child.once('exit', (code, signal) => {
    if (!stopping) exits.push({ service: name, code, signal });
  });
}

function launchService(name, app, env) {
  const child = launchCommand(name, process.execPath, [join(root, 'apps', app, 'dist', 'main.js')], env, 0);
  watchLogs(name, child);
  return child;
}

/** Settings every service gets in the soak (each named in the report). */
const COMMON_ENV = {
  // The fake's 503s are per request, not an outage: an open circuit would fail healthy requests beside them.
  // The breakers have their own tests; retries stay on (a 503 is retried before the client gets it).
  UPSTREAM_BREAKER_FAILURES: '0',
};
/** Settings of the services facing the fake. */
const EDGE_OF_FAKE_ENV = { ...COMMON_ENV, UPSTREAM_IDLE_TIMEOUT_MS: String(UPSTREAM_IDLE_TIMEOUT_MS) };

/**
 * Starts the fake, the services and Redis, waits until they answer and makes the team's gateway key. The start's
 * own requests (fetch, through `startup`) go on connections closed before the baseline, and the team gateway is
 * asked /healthz rather than /readyz (whose checks would leave it pooled connections to the relay and the bridge),
 * so the baseline is the services idle.
 */
async function startStack(startup) {
  setGlobalDispatcher(startup);
  const fake = launchCommand('soak-upstream', process.execPath, [join(root, 'tools/soak/soak-upstream.mjs')], {}, 1);
  const fakePort = await reportedPort(fake);
  fake.stderr.resume();
  const fakeUrl = `http://127.0.0.1:${fakePort}`;
  const [relayPort, claudePort, gatewayPort, teamPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const relay = launchService('openai-relay', 'openai-relay', {
    ...EDGE_OF_FAKE_ENV,
    PORT: String(relayPort),
    OPENAI_API_BASE: fakeUrl,
  });
  const claude = launchService('claude-bridge', 'claude-bridge', {
    ...EDGE_OF_FAKE_ENV,
    PORT: String(claudePort),
    ANTHROPIC_API_BASE: fakeUrl,
  });
  const backends = {
    OPENAI_RELAY_URL: `http://127.0.0.1:${relayPort}`,
    CLAUDE_BRIDGE_URL: `http://127.0.0.1:${claudePort}`,
    BARD_BRIDGE_URL: 'http://127.0.0.1:9',
  };
  const gateway = launchService('gateway', 'gateway', {
    ...COMMON_ENV,
    ...backends,
    PORT: String(gatewayPort),
    GATEWAY_KEYS: 'off',
  });
  await Promise.all(
    [relayPort, claudePort, gatewayPort].map((port) => waitUntilOk(`http://127.0.0.1:${port}/healthz`)),
  );
  const folder = teamFolder();
  const redis = await startRedis((name, command, args) => {
    const child = launchCommand(name, command, args, {}, 1);
    child.stderr.resume();
    return child;
  }, folder);
  const adminToken = randomBytes(24).toString('hex');
  const team = launchService('gateway (team)', 'gateway', {
    ...COMMON_ENV,
    ...backends,
    PORT: String(teamPort),
    GATEWAY_KEYS: 'required',
    GATEWAY_ADMIN_TOKEN: adminToken,
    OPENAI_API_KEY: 'sk-soak-team-0000',
    ANTHROPIC_API_KEY: 'sk-ant-api03-soak-team-0000',
    DATABASE_URL: teamDatabaseUrl(folder),
    REDIS_URL: redis.url,
  });
  const teamBase = `http://127.0.0.1:${teamPort}`;
  await waitUntilOk(`${teamBase}/healthz`);
  const gatewayKey = await createGatewayKey(teamBase, adminToken);
  await startup.close();
  const gatewayUpstreams = new Set([relayPort, claudePort]);
  return {
    fakeUrl,
    gatewayBase: `http://127.0.0.1:${gatewayPort}`,
    teamBase,
    gatewayKey,
    limits: redis.url === undefined ? `in process (${redis.problem})` : 'Redis',
    services: [
      { name: 'gateway', pid: gateway.pid, base: `http://127.0.0.1:${gatewayPort}`, upstreamPorts: gatewayUpstreams },
      { name: 'gateway (team)', pid: team.pid, base: teamBase, upstreamPorts: gatewayUpstreams },
      { name: 'openai-relay', pid: relay.pid, base: backends.OPENAI_RELAY_URL, upstreamPorts: new Set([fakePort]) },
      { name: 'claude-bridge', pid: claude.pid, base: backends.CLAUDE_BRIDGE_URL, upstreamPorts: new Set([fakePort]) },
    ],
  };
}

// --- sampling --------------------------------------------------------------------------------------------

const clock = { started: performance.now(), phase: 'baseline', clientsOpen: 0, maxClientsOpen: 0 };
const seconds = () => (performance.now() - clock.started) / 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function fakeStats(fakeUrl) {
  const text = await getText(`${fakeUrl}/stats`);
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Samples every SAMPLE_MS into `samples` until stopped (at most MAX_SAMPLES); `next()` waits for the next one. */
function startSampler(stack, samples) {
  const listeners = new Set();
  let stopped = false;
  const done = (async () => {
    for (let count = 0; count < MAX_SAMPLES && !stopped; count += 1) {
      const tickStarted = performance.now();
      const t = seconds();
      const [services, fake] = await Promise.all([sampleServices(stack.services), fakeStats(stack.fakeUrl)]);
      const sample = { t, phase: clock.phase, clientsOpen: clock.clientsOpen, services, fake };
      samples.push(sample);
      for (const listener of listeners) listener(sample);
      await sleep(Math.max(0, SAMPLE_MS - (performance.now() - tickStarted)));
    }
  })();
  return {
    /** The next sample; undefined when none came within three periods (the sampler stopped). */
    next: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          resolve(undefined);
        }, 3 * SAMPLE_MS);
        const listener = (sample) => {
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(sample);
        };
        listeners.add(listener);
      }),
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

// --- load ------------------------------------------------------------------------------------------------

/** Runs one scenario, counting the clients open at once. */
async function tracked(run) {
  clock.clientsOpen += 1;
  clock.maxClientsOpen = Math.max(clock.maxClientsOpen, clock.clientsOpen);
  try {
    return await run();
  } finally {
    clock.clientsOpen -= 1;
  }
}

/** A tally of results by scenario: how each ended, and how many ended otherwise than it expects. */
function tally(results, scenarios) {
  const byName = new Map(scenarios.map((entry) => [entry.name, entry]));
  const rows = {};
  for (const result of results) {
    const entry = byName.get(result.scenario);
    const row = (rows[result.scenario] ??= { expect: entry.expect, count: 0, outcomes: {}, unexpected: 0 });
    row.count += 1;
    row.outcomes[result.outcome] = (row.outcomes[result.outcome] ?? 0) + 1;
    if (result.outcome !== entry.expect) row.unexpected += 1;
  }
  return rows;
}

/** Phase A: FLEET_STREAMS clients each streaming FLEET_STREAM through the gateway until the phase ends. */
async function runFleet(agent, stack) {
  const gaps = [];
  const results = [];
  const rampEnd = seconds() + (FLEET_STREAMS * FLEET_RAMP_STEP_MS) / 1000;
  const deadline = performance.now() + FLEET_S * 1000;
  const steadyFrom = rampEnd + 1;
  const steadyTo = seconds() + FLEET_S;
  const client = async (index) => {
    await sleep(index * FLEET_RAMP_STEP_MS);
    // Bounded: each stream lasts about 10 s, so a client runs at most FLEET_S / 10 + 1 of them.
    for (let round = 0; performance.now() < deadline && round < FLEET_S; round += 1) {
      results.push(
        await tracked(() => runScenario(agent, stack.gatewayBase, FLEET_STREAM, undefined, (gap) => gaps.push(gap))),
      );
    }
  };
  await Promise.all(Array.from({ length: FLEET_STREAMS }, (_, index) => client(index)));
  return { results, gaps, steadyFrom, steadyTo };
}

/** Phase B: MIXED_CLIENTS clients taking the mixed schedule in turn until the phase ends. */
async function runMixed(agent, stack) {
  const schedule = mixedSchedule();
  const results = [];
  let next = 0;
  const deadline = performance.now() + MIXED_S * 1000;
  // Bounded: no request is shorter than a loopback round trip; this cap is far above what a run reaches.
  const maxRounds = MIXED_S * 1000;
  const client = async () => {
    for (let round = 0; performance.now() < deadline && round < maxRounds; round += 1) {
      const scenario = schedule[next % schedule.length];
      next += 1;
      const base = scenario.team ? stack.teamBase : stack.gatewayBase;
      const token = scenario.team ? stack.gatewayKey : undefined;
      results.push(await tracked(() => runScenario(agent, base, scenario, token)));
    }
  };
  await Promise.all(Array.from({ length: MIXED_CLIENTS }, client));
  return results;
}

/** Waits (at most SETTLE_MAX_MS) for a sample where every service is back at its baseline; answers it. */
async function settle(sampler, baseline) {
  const deadline = performance.now() + SETTLE_MAX_MS;
  let last;
  while (performance.now() < deadline) {
    const sample = await sampler.next();
    if (sample === undefined) break;
    last = sample;
    if (backAtBaseline(last, baseline)) return last;
  }
  if (last === undefined) throw new Error('the sampler stopped before the services settled');
  return last;
}

function backAtBaseline(sample, baseline) {
  const fakeIdle = sample.fake?.open === 0;
  return (
    fakeIdle &&
    SERVICE_NAMES.every((name) => {
      const now = sample.services[name];
      const before = baseline.services[name];
      return (
        now.fds !== undefined &&
        now.fds <= before.fds + FD_TOLERANCE &&
        now.upstreamSockets <= before.upstreamSockets + UPSTREAM_SOCKET_TOLERANCE
      );
    })
  );
}

// --- verdicts --------------------------------------------------------------------------------------------

const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/**
 * Each service's RSS trend in phase B. RSS saws: the heap grows to a major collection, then V8 gives pages back,
 * over a period of about 100 s and 40 MB under this load, so a straight line through raw samples says more about
 * where the window fell in that cycle than about a trend. What a leak lifts is the floor: the goal's measure is
 * the least-squares slope of the lowest RSS in each RSS_FLOOR_WINDOW_S window of phase B (each window at least
 * one cycle, the first RSS_WARM_S left out while the heap grows to its working size). The slope through every
 * sample of the second half, and each half's peak, are printed beside it for information.
 */
function rssTrends(samples, mixedPhase) {
  const middle = mixedPhase.from + (mixedPhase.to - mixedPhase.from) / 2;
  const mixedSamples = samples.filter((sample) => sample.phase === 'mixed soak');
  const rss = (sample, name) => sample.services[name].rssMb;
  const peak = (window, name) => Math.max(...window.map((sample) => rss(sample, name)).filter(Number.isFinite));
  const floorsFrom = mixedPhase.from + RSS_WARM_S;
  const windows = Math.floor((mixedPhase.to - floorsFrom) / RSS_FLOOR_WINDOW_S);
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => {
      const floors = [];
      for (let index = 0; index < windows; index += 1) {
        const from = floorsFrom + index * RSS_FLOOR_WINDOW_S;
        const inWindow = mixedSamples
          .filter((sample) => sample.t >= from && sample.t < from + RSS_FLOOR_WINDOW_S)
          .map((sample) => rss(sample, name))
          .filter(Number.isFinite);
        if (inWindow.length > 0) floors.push([(from + RSS_FLOOR_WINDOW_S / 2) / 60, Math.min(...inWindow)]);
      }
      const secondHalf = mixedSamples.filter((sample) => sample.t >= middle);
      const points = secondHalf
        .map((sample) => [sample.t / 60, rss(sample, name)])
        .filter(([, value]) => Number.isFinite(value));
      return [
        name,
        {
          mbPerMinute: slope(floors),
          floorsMb: floors.map(([, value]) => value),
          secondHalfMbPerMinute: slope(points),
          points: points.length,
          peakFirstHalfMb: peak(
            mixedSamples.filter((sample) => sample.t < middle),
            name,
          ),
          peakSecondHalfMb: peak(secondHalf, name),
        },
      ];
    }),
  );
}

function fleetEventLoop(samples, fleet) {
  const steady = samples.filter((sample) => sample.t >= fleet.steadyFrom && sample.t <= fleet.steadyTo);
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => {
      const values = steady.map((sample) => sample.services[name].eventLoopP99Ms).filter(Number.isFinite);
      const streams = steady.map((sample) => sample.services[name].streamsInFlight).filter(Number.isFinite);
      return [
        name,
        {
          maxP99Ms: values.length === 0 ? NaN : Math.max(...values),
          medianP99Ms: percentile(values, 0.5),
          samples: values.length,
          minStreamsInFlight: streams.length === 0 ? NaN : Math.min(...streams),
          maxStreamsInFlight: streams.length === 0 ? NaN : Math.max(...streams),
        },
      ];
    }),
  );
}

function judge({ baseline, final, slopes, eventLoop, fleetTally, mixedTally, fake, maxFleetOpen }) {
  const goals = [];
  const add = (goal, measured, ok) => goals.push({ goal, measured, ok });
  add(`500 streams were open at once (client side)`, `${maxFleetOpen}`, maxFleetOpen >= FLEET_STREAMS);
  for (const name of FLEET_SERVICES) {
    const figure = eventLoop[name];
    add(
      `${name}: event-loop delay p99 < ${EVENT_LOOP_GOAL_MS} ms at 500 streams (worst 2 s sample)`,
      `${fixed(figure.maxP99Ms)} ms (median ${fixed(figure.medianP99Ms)} ms, ${figure.samples} samples)`,
      figure.samples > 0 && figure.maxP99Ms < EVENT_LOOP_GOAL_MS,
    );
  }
  for (const name of SERVICE_NAMES) {
    const figure = slopes[name];
    add(
      `${name}: slope of the RSS floor (lowest RSS per ${RSS_FLOOR_WINDOW_S} s) over the mixed soak < ${RSS_SLOPE_GOAL_MB_PER_MIN} MB/min`,
      `${fixed(figure.mbPerMinute, 2)} MB/min (floors ${figure.floorsMb.map((value) => fixed(value, 0)).join(', ')} MB)`,
      Number.isFinite(figure.mbPerMinute) && figure.mbPerMinute < RSS_SLOPE_GOAL_MB_PER_MIN,
    );
  }
  for (const name of SERVICE_NAMES) {
    const before = baseline.services[name];
    const after = final.services[name];
    add(
      `${name}: file handles back to baseline (+${FD_TOLERANCE})`,
      `${before.fds} -> ${after.fds}`,
      after.fds !== undefined && after.fds <= before.fds + FD_TOLERANCE,
    );
    add(
      `${name}: upstream sockets back to baseline`,
      `${before.upstreamSockets} -> ${after.upstreamSockets}`,
      after.upstreamSockets !== undefined &&
        after.upstreamSockets <= before.upstreamSockets + UPSTREAM_SOCKET_TOLERANCE,
    );
    add(`${name}: zero last-resort errors`, `${after.lastResortErrors ?? 'not scraped'}`, after.lastResortErrors === 0);
  }
  const all = [...Object.values(fleetTally), ...Object.values(mixedTally)];
  const falseSuccesses = all.reduce((sum, row) => sum + (row.outcomes[Outcome.falseSuccess] ?? 0), 0);
  const streams = all.reduce((sum, row) => sum + row.count, 0);
  add(
    'zero requests that ended looking successful when they were not',
    `${falseSuccesses} of ${streams}`,
    falseSuccesses === 0,
  );
  const unexpected = all.reduce((sum, row) => sum + row.unexpected, 0);
  add('every request ended as its scenario expects', `${unexpected} did not`, unexpected === 0);
  add(
    'the fake: no upstream call left open, none outlived a client that left',
    `${fake?.open ?? 'n/a'} open, ${fake?.abandonedRanToEnd ?? 'n/a'} ran on`,
    fake?.open === 0 && fake?.abandonedRanToEnd === 0,
  );
  add('every service stayed up', exits.length === 0 ? 'yes' : JSON.stringify(exits), exits.length === 0);
  return goals;
}

// --- report ----------------------------------------------------------------------------------------------

function printTable(header, lines) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => String(line[column]).length)),
  );
  const format = (cells) => cells.map((cell, column) => String(cell).padEnd(widths[column])).join('  ');
  process.stdout.write(`${format(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  for (const line of lines) process.stdout.write(`${format(line)}\n`);
}

function printSummary(report) {
  const { fleet, mixed, baseline, final } = report;
  process.stdout.write(`\nMachine: ${report.machine}\nMode: ${report.mode}; team limits: ${report.teamLimits}\n`);
  process.stdout.write(
    `\nA. 500 streams (${FLEET_S} s, ${FLEET_STREAM.model}): ${fleet.streams} streams, client inter-chunk delay p50 ${fixed(fleet.gapP50Ms)} ms, p99 ${fixed(fleet.gapP99Ms)} ms (the fake sends every 100 ms)\n`,
  );
  printTable(
    ['service', 'event-loop p99 worst', 'median', 'streams in flight'],
    SERVICE_NAMES.map((name) => {
      const figure = fleet.eventLoop[name];
      return [
        name,
        `${fixed(figure.maxP99Ms)} ms`,
        `${fixed(figure.medianP99Ms)} ms`,
        `${fixed(figure.minStreamsInFlight, 0)}-${fixed(figure.maxStreamsInFlight, 0)}`,
      ];
    }),
  );
  process.stdout.write(`\nB. Mixed soak (${MIXED_S} s, ${MIXED_CLIENTS} clients): ${mixed.requests} requests\n`);
  printTable(
    ['scenario', 'count', 'expects', 'outcomes', 'unexpected'],
    Object.entries(mixed.byScenario).map(([name, row]) => [
      name,
      row.count,
      row.expect,
      Object.entries(row.outcomes)
        .map(([outcome, count]) => `${outcome} ${count}`)
        .join(', '),
      row.unexpected,
    ]),
  );
  process.stdout.write(`\nServices (baseline -> after the load, settled in ${fixed(report.settleSeconds, 0)} s)\n`);
  printTable(
    [
      'service',
      'RSS MB',
      'RSS floor slope MB/min',
      'RSS peak B 1st -> 2nd half',
      'fds',
      'upstream sockets',
      'ev-loop p99 max (B)',
      'last-resort',
      'error logs',
    ],
    SERVICE_NAMES.map((name) => [
      name,
      `${fixed(baseline.services[name].rssMb, 0)} -> ${fixed(final.services[name].rssMb, 0)}`,
      fixed(report.rssTrends[name].mbPerMinute, 2),
      `${fixed(report.rssTrends[name].peakFirstHalfMb, 0)} -> ${fixed(report.rssTrends[name].peakSecondHalfMb, 0)}`,
      `${baseline.services[name].fds} -> ${final.services[name].fds}`,
      `${baseline.services[name].upstreamSockets} -> ${final.services[name].upstreamSockets}`,
      `${fixed(mixed.eventLoopMaxMs[name])} ms`,
      final.services[name].lastResortErrors ?? 'n/a',
      logs[name]?.errorLines ?? 0,
    ]),
  );
  process.stdout.write('\nGoals (issue 13, point 5):\n');
  for (const goal of report.goals)
    process.stdout.write(`  ${goal.ok ? 'met ' : 'MISS'}  ${goal.goal}  (${goal.measured})\n`);
}

function machine() {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} x ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pinning ? 'services on CPU 0, client, fake and Redis on CPU 1' : 'no CPU pinning'}`;
}

function outcomeTotals(results) {
  const totals = {};
  for (const result of results) totals[result.outcome] = (totals[result.outcome] ?? 0) + 1;
  return totals;
}

// --- main ------------------------------------------------------------------------------------------------

async function main() {
  for (const app of ['gateway', 'openai-relay', 'claude-bridge']) {
    if (!existsSync(join(root, 'apps', app, 'dist', 'main.js'))) throw new Error('Build first: npm run build');
  }
  const stack = await startStack(new Agent());
  const samples = [];
  const phases = [];
  const sampler = startSampler(stack, samples);
  let baseline;
  for (let count = 0; count < BASELINE_SAMPLES; count += 1) baseline = (await sampler.next()) ?? baseline;
  if (baseline === undefined) throw new Error('no baseline sample');
  process.stdout.write(`soak: services up, baseline taken; phase A (${FLEET_STREAMS} streams, ${FLEET_S} s)\n`);

  const agent = new Agent({ keepAliveTimeout: 10_000 });
  clock.phase = '500 streams';
  let from = seconds();
  const fleetRun = await runFleet(agent, stack);
  const maxFleetOpen = clock.maxClientsOpen;
  phases.push({ name: '500 streams', from, to: seconds() });
  process.stdout.write(`soak: phase B (mixed, ${MIXED_S} s, ${MIXED_CLIENTS} clients)\n`);

  clock.phase = 'mixed soak';
  from = seconds();
  const mixedResults = await runMixed(agent, stack);
  phases.push({ name: 'mixed soak', from, to: seconds() });
  await agent.close();

  clock.phase = 'settle';
  from = seconds();
  process.stdout.write(`soak: load stopped; waiting (at most ${SETTLE_MAX_MS / 1000} s) for the baseline\n`);
  const final = await settle(sampler, baseline);
  const settleSeconds = seconds() - from;
  phases.push({ name: 'settle', from, to: seconds() });
  await sampler.stop();
  stopping = true;
  stopAll();

  const fleetTally = tally(fleetRun.results, [FLEET_STREAM]);
  const mixedTally = tally(mixedResults, MIXED_SCENARIOS);
  const eventLoop = fleetEventLoop(samples, fleetRun);
  const slopes = rssTrends(samples, phases[1]);
  const mixedSamples = samples.filter((sample) => sample.phase === 'mixed soak');
  const report = {
    date: new Date().toISOString(),
    machine: machine(),
    mode: `${quick ? 'quick' : 'full'}: phase A ${FLEET_S} s, phase B ${MIXED_S} s`,
    teamLimits: stack.limits,
    settings: {
      fleetStreams: FLEET_STREAMS,
      fleetStream: FLEET_STREAM.model,
      fleetSeconds: FLEET_S,
      mixedSeconds: MIXED_S,
      mixedClients: MIXED_CLIENTS,
      sampleMs: SAMPLE_MS,
      settleMaxMs: SETTLE_MAX_MS,
      fdTolerance: FD_TOLERANCE,
      upstreamSocketTolerance: UPSTREAM_SOCKET_TOLERANCE,
      servicesEnv: COMMON_ENV,
      servicesFacingTheFakeEnv: EDGE_OF_FAKE_ENV,
    },
    phases,
    settleSeconds,
    fleet: {
      streams: fleetRun.results.length,
      outcomes: outcomeTotals(fleetRun.results),
      gapP50Ms: percentile(fleetRun.gaps, 0.5),
      gapP99Ms: percentile(fleetRun.gaps, 0.99),
      gaps: fleetRun.gaps.length,
      maxClientsOpen: maxFleetOpen,
      steadyWindow: { from: fleetRun.steadyFrom, to: fleetRun.steadyTo },
      eventLoop,
      byScenario: fleetTally,
    },
    mixed: {
      requests: mixedResults.length,
      outcomes: outcomeTotals(mixedResults),
      byScenario: mixedTally,
      eventLoopMaxMs: Object.fromEntries(
        SERVICE_NAMES.map((name) => [
          name,
          Math.max(...mixedSamples.map((sample) => sample.services[name].eventLoopP99Ms).filter(Number.isFinite)),
        ]),
      ),
    },
    rssTrends: slopes,
    baseline,
    final,
    fake: final.fake,
    logs,
    goals: [],
    samples,
  };
  report.goals = judge({
    baseline,
    final,
    slopes,
    eventLoop,
    fleetTally,
    mixedTally,
    fake: final.fake,
    maxFleetOpen,
  });
  printSummary(report);
  const folder = join(root, 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(
    join(folder, 'soak.svg'),
    renderSoakChart({
      samples,
      phases,
      services: SERVICE_NAMES,
      title: `Soak ${report.date.slice(0, 10)} (${report.mode}): RSS and event-loop delay per service`,
    }),
  );
  process.stdout.write('\nWrote bench/results/soak.json and soak.svg\n');
  return report.goals.every((goal) => goal.ok);
}

/** Runs this script again pinned to CPU 1, passing SIGINT and SIGTERM on, and exits with its code. */
function runPinned() {
  const pinned = spawn('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, SOAK_PINNED: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => pinned.kill(signal));
  pinned.once('exit', (code) => process.exit(code ?? 1));
}

// The client runs on CPU 1, the services on CPU 0 (as the bench does).
if (pinning && process.env.SOAK_PINNED !== '1') runPinned();
else runSoak();

function runSoak() {
  const limit = setTimeout(() => {
    process.stderr.write('soak: time limit reached, stopping\n');
    stopping = true;
    stopAll();
    process.exit(2);
  }, HARD_LIMIT_MS);
  limit.unref();
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      stopping = true;
      stopAll();
      process.exit(130);
    });
  }

  main().then(
    (met) => process.exit(met ? 0 : 1),
    (error) => {
      process.stderr.write(`soak failed: ${error.message}\n`);
      stopping = true;
      stopAll();
      process.exit(1);
    },
  );
}
