#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only <scenario>[,<scenario>]] [-- --no-team] : load against the stack and two baselines in the same run, reported as ratios.
// Targets: the upstream called directly, the floor (a minimal node:http + undici proxy), the floor chained to
// itself (two floors on the same core: the least two Node hops cost), the openai-relay alone, and the
// gateway -> openai-relay chain, judged against the floor chain. Team mode (issue 12): the same chain with
// GATEWAY_KEYS=required, a gateway key on /v1/chat/completions, limits in a private Redis (and, beside it, in
// process), judged against the plain chain asked the same route and body (gateway+relay /v1, GATEWAY_KEYS=off),
// so the ratio is what keys, limits and the ledger cost. Everything listens on 127.0.0.1; every run is bounded.
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { renderChart } from './chart.mjs';
import { freePort, reportedPort, spawnTracked, stopAll, waitUntilOk } from './processes.mjs';
import { createGatewayKey, startRedis, teamDatabaseUrl, teamFolder } from './team.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');
/** `--no-team`: pass-through targets only (a before/after against a commit without team mode). */
const withTeam = !process.argv.includes('--no-team');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex === -1 ? undefined : new Set((process.argv[onlyIndex + 1] ?? '').split(','));
const DURATION_S = quick ? 2 : 8;
const WARMUP_S = quick ? 0.5 : 2;
/**
 * Issue 12's comparison (each team chain against gateway+relay /v1) runs in paired rounds: the targets take
 * turns, DURATION_S / PAIRED_ROUNDS each, and a team chain's ratio is the median of its per-round ratios. On a
 * shared machine the speed drifts by half within a minute; one long run per target measured the drift, not
 * team mode (two runs an hour apart gave 0.64 and 0.79 for the same code).
 */
const PAIRED_ROUNDS = quick ? 1 : 4;
/**
 * How long each paired target is warmed up before the rounds: a run's length and a warm-up. gateway+relay /v1 is
 * the process that has just served every pass-through run; the team gateways are fresh, and their heap (the
 * tokenizer's tables come with the first metered request) and compiled code settle later. With the plain
 * warm-up the team chains measured 0.05 lower than after this one (two pairs of runs).
 */
const PAIRED_WARMUP_S = DURATION_S + WARMUP_S;
const HARD_LIMIT_MS = (quick ? 3 : 15) * 60_000;
const PAYLOAD = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
/** The provider key clients send through the pass-through targets, and the one the team gateways attach. */
const PROVIDER_KEY = 'sk-bench-0000';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${PROVIDER_KEY}` };
/** What team mode is asked: the same chat, streamed for the SSE scenarios (the usage chunk not asked for). */
const CHAT_STREAM_PAYLOAD = JSON.stringify({ ...JSON.parse(PAYLOAD), stream: true });

const SCENARIOS = [
  { name: 'json-instant-c32', path: '/v1/instant', connections: 32, kind: 'json' },
  { name: 'json-instant-c128', path: '/v1/instant', connections: 128, kind: 'json', full: true },
  // The header makes the upstream's /v1/chat/completions (the /v1 and team targets' path) wait 50 ms as well.
  { name: 'json-50ms-c128', path: '/v1/delayed', connections: 128, kind: 'json', headers: { 'x-bench-delay': '1' } },
  { name: 'sse-20x5ms-c32', path: '/v1/sse', connections: 32, kind: 'sse' },
  { name: 'sse-20x5ms-c128', path: '/v1/sse', connections: 128, kind: 'sse', full: true },
  // The translating bridge: Anthropic events in, OpenAI chunks out (compared with the relay's SSE at c32).
  { name: 'anthropic-translate-c32', path: '/v1/messages', connections: 32, kind: 'sse', translate: true },
]
  .filter((scenario) => !quick || !scenario.full)
  .filter((scenario) => only === undefined || only.has(scenario.name));

/** The baseline the gateway -> relay chain is judged against: two floors, one behind the other. */
const FLOOR_CHAIN = 'floor+floor';
const CHAIN = 'gateway+relay';
/**
 * The same gateway (GATEWAY_KEYS=off) and relay asked what the team chains are asked: `/v1/chat/completions`,
 * routed by the body's model. What a team chain costs beyond it is the key check, the reservation and the
 * ledger row, which is what issue 12's speed goal measures.
 */
const CHAIN_V1 = 'gateway+relay /v1';
/** The team chain (limits in Redis) and its variant with limits in process, both judged against CHAIN_V1. */
const TEAM_CHAIN = 'gateway+relay (team)';
const TEAM_CHAIN_IN_PROCESS = 'gateway+relay (team, in-process limits)';
/** The scenarios the team chains (and gateway+relay /v1) run: instant JSON, JSON after 50 ms, one event stream. */
const TEAM_SCENARIOS = new Set(['json-instant-c32', 'json-50ms-c128', 'sse-20x5ms-c32']);

const TRANSLATE_PAYLOAD = JSON.stringify({
  model: 'claude-bench',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

// --- processes -------------------------------------------------------------------------------------------

const pinning = existsSync('/usr/bin/taskset') && cpus().length >= 2;

/** Spawns `command` tracked, pinned to `cpu` when pinning. */
function launchCommand(name, command, args, env, cpu) {
  return pinning
    ? spawnTracked(name, 'taskset', ['-c', String(cpu), command, ...args], env)
    : spawnTracked(name, command, args, env);
}

function launch(name, script, env, cpu) {
  return launchCommand(name, process.execPath, [script], env, cpu);
}

function peakRssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function startTargets() {
  const upstream = launch('upstream', join(root, 'tools/bench/upstream.mjs'), {}, 1);
  const upstreamUrl = `http://127.0.0.1:${await reportedPort(upstream)}`;
  const floor = launch('floor', join(root, 'tools/bench/floor-proxy.mjs'), { TARGET: upstreamUrl }, 0);
  const floorUrl = `http://127.0.0.1:${await reportedPort(floor)}`;
  // The second floor forwards `/openai/...` unchanged to the first, which strips the prefix.
  const floorChain = launch(
    'floor-chain',
    join(root, 'tools/bench/floor-proxy.mjs'),
    { TARGET: floorUrl, KEEP_PREFIX: '1' },
    0,
  );
  const floorChainUrl = `http://127.0.0.1:${await reportedPort(floorChain)}`;
  const [relayPort, gatewayPort, claudePort] = [await freePort(), await freePort(), await freePort()];
  const relayUrl = `http://127.0.0.1:${relayPort}`;
  const relay = launch(
    'openai-relay',
    join(root, 'apps/openai-relay/dist/main.js'),
    { PORT: String(relayPort), OPENAI_API_BASE: upstreamUrl },
    0,
  );
  const gateway = launch(
    'gateway',
    join(root, 'apps/gateway/dist/main.js'),
    { ...gatewayEnv(gatewayPort, relayUrl), GATEWAY_KEYS: 'off' },
    0,
  );
  const claude = launch(
    'claude-bridge',
    join(root, 'apps/claude-bridge/dist/main.js'),
    { PORT: String(claudePort), ANTHROPIC_API_BASE: upstreamUrl },
    0,
  );
  for (const child of [relay, gateway, claude]) child.stdout.resume();
  await Promise.all([
    waitUntilOk(`${relayUrl}/healthz`),
    waitUntilOk(`http://127.0.0.1:${gatewayPort}/healthz`),
    waitUntilOk(`http://127.0.0.1:${claudePort}/healthz`),
  ]);
  const team =
    withTeam && SCENARIOS.some((scenario) => TEAM_SCENARIOS.has(scenario.name))
      ? await startTeamTargets(relayUrl)
      : { targets: [], notRun: [], pids: {} };
  return {
    targets: [
      { name: 'direct', base: upstreamUrl, prefix: '' },
      { name: 'floor', base: floorUrl, prefix: '/openai' },
      { name: FLOOR_CHAIN, base: floorChainUrl, prefix: '/openai' },
      { name: 'openai-relay', base: relayUrl, prefix: '/openai', pid: relay.pid },
      {
        name: CHAIN,
        base: `http://127.0.0.1:${gatewayPort}`,
        prefix: '/openai',
        pid: gateway.pid,
        alsoPid: relay.pid,
        chained: true,
      },
      {
        name: CHAIN_V1,
        base: `http://127.0.0.1:${gatewayPort}`,
        prefix: '',
        path: '/v1/chat/completions',
        payloads: { json: PAYLOAD, sse: CHAT_STREAM_PAYLOAD },
        scenarios: TEAM_SCENARIOS,
        chained: true,
      },
      ...team.targets,
    ],
    translateTargets: [
      { name: 'direct', base: upstreamUrl, prefix: '' },
      {
        name: 'claude-bridge',
        base: `http://127.0.0.1:${claudePort}`,
        prefix: '',
        path: '/claude/v1/chat/completions',
        payloads: { sse: TRANSLATE_PAYLOAD },
      },
    ],
    notRun: team.notRun,
    pids: {
      'openai-relay': relay.pid,
      gateway: gateway.pid,
      'claude-bridge': claude.pid,
      floor: floor.pid,
      'floor-chain': floorChain.pid,
      ...team.pids,
    },
  };
}

/** The gateway's variables in front of the relay (the bridges are not reached). */
function gatewayEnv(port, relayUrl) {
  return {
    PORT: String(port),
    OPENAI_RELAY_URL: relayUrl,
    CLAUDE_BRIDGE_URL: 'http://127.0.0.1:9',
    BARD_BRIDGE_URL: 'http://127.0.0.1:9',
  };
}

/**
 * A gateway in team mode in front of the same relay: gateway keys required, the provider key attached by the
 * gateway, the run's team database and admin token (`team`), limits in `redisUrl` (undefined: in process,
 * whatever the caller's environment says). Ready when /readyz passes (the limit store is one of its checks).
 */
async function startTeamGateway(name, relayUrl, team, redisUrl) {
  const port = await freePort();
  const child = launch(
    name,
    join(root, 'apps/gateway/dist/main.js'),
    {
      ...gatewayEnv(port, relayUrl),
      GATEWAY_KEYS: 'required',
      GATEWAY_ADMIN_TOKEN: team.adminToken,
      OPENAI_API_KEY: PROVIDER_KEY,
      DATABASE_URL: team.databaseUrl,
      REDIS_URL: redisUrl,
    },
    0,
  );
  child.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  await waitUntilOk(`${base}/readyz`);
  return { base, pid: child.pid };
}

/** One chat through a team gateway must be answered 200 before it is measured (a 401 would be measured too). */
async function checkTeamChat(target) {
  const answer = await fetch(`${target.base}${target.path}`, {
    method: 'POST',
    headers: { ...HEADERS, authorization: `Bearer ${target.token}` },
    body: PAYLOAD,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await answer.text();
  if (answer.status !== 200) throw new Error(`${target.name} answered ${answer.status}: ${text.slice(0, 300)}`);
}

/**
 * The team chains: one gateway with limits in a private Redis and one with limits in process, sharing a
 * temporary SQLite database and one gateway key (made through the first one's admin API; the admin token is
 * random, never printed). Without redis-server the Redis chain is listed as not run, with the reason.
 */
async function startTeamTargets(relayUrl) {
  const folder = teamFolder();
  const team = { databaseUrl: teamDatabaseUrl(folder), adminToken: randomBytes(24).toString('hex') };
  const redis = await startRedis((name, command, args) => launchCommand(name, command, args, {}, 1), folder);
  const chains = [
    ...(redis.url === undefined ? [] : [{ name: TEAM_CHAIN, pidName: 'gateway (team)', redisUrl: redis.url }]),
    { name: TEAM_CHAIN_IN_PROCESS, pidName: 'gateway (team, in-process)', redisUrl: undefined },
  ];
  const targets = [];
  const pids = {};
  let key;
  for (const chain of chains) {
    // One after the other: the first gateway creates and migrates the database file before the next opens it.
    const gateway = await startTeamGateway(chain.pidName, relayUrl, team, chain.redisUrl);
    key ??= await createGatewayKey(gateway.base, team.adminToken);
    const target = {
      name: chain.name,
      base: gateway.base,
      prefix: '',
      path: '/v1/chat/completions',
      payloads: { json: PAYLOAD, sse: CHAT_STREAM_PAYLOAD },
      token: key,
      scenarios: TEAM_SCENARIOS,
      chained: true,
      judgedAgainstChain: true,
    };
    await checkTeamChat(target);
    targets.push(target);
    pids[chain.pidName] = gateway.pid;
  }
  const notRun = redis.problem === undefined ? [] : [{ target: TEAM_CHAIN, reason: redis.problem }];
  return { targets, notRun, pids };
}

// --- measurements ----------------------------------------------------------------------------------------

async function loadJson(url, connections, seconds, payload, headers) {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    method: 'POST',
    headers,
    body: payload,
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

function percentile(values, fraction) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** Streams in a loop from `connections` clients; records time to first chunk and the gaps between chunks. */
async function loadSse(url, connections, seconds, payload, headers) {
  const target = new URL(url);
  const agent = new Agent({ connections, keepAliveTimeout: 10_000 });
  const firstChunk = [];
  const gaps = [];
  let completed = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  async function client() {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        const { statusCode, body } = await agent.request({
          origin: target.origin,
          path: target.pathname,
          method: 'POST',
          headers,
          body: payload,
        });
        if (statusCode !== 200) {
          errors += 1;
          await body.dump();
          continue;
        }
        let last;
        for await (const chunk of body) {
          const now = performance.now();
          if (last === undefined) firstChunk.push(now - started);
          else gaps.push(now - last);
          last = now;
          void chunk;
        }
        completed += 1;
      } catch {
        errors += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, client));
  await agent.close();
  return {
    streamsPerSecond: completed / seconds,
    firstChunkP50Ms: percentile(firstChunk, 0.5),
    gapP50Ms: percentile(gaps, 0.5),
    gapP99Ms: percentile(gaps, 0.99),
    errors,
  };
}

/** Requests per second for JSON scenarios, streams per second for event streams. */
function rateOf(scenario, result) {
  return scenario.kind === 'sse' ? result.streamsPerSecond : result.requestsPerSecond;
}

/** One run of `scenario` against `target` for `seconds` (a warm-up is a run whose result is dropped). */
function runOnce(scenario, target, seconds) {
  const url = `${target.base}${target.prefix}${target.path ?? scenario.path}`;
  const payload = target.payloads?.[scenario.kind] ?? PAYLOAD;
  const headers = {
    ...HEADERS,
    ...scenario.headers,
    ...(target.token === undefined ? {} : { authorization: `Bearer ${target.token}` }),
  };
  const run = scenario.kind === 'sse' ? loadSse : loadJson;
  return run(url, scenario.connections, seconds, payload, headers);
}

async function measure(scenario, target) {
  await runOnce(scenario, target, WARMUP_S);
  return runOnce(scenario, target, DURATION_S);
}

function median(values) {
  const sorted = Float64Array.from(values).sort();
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Rounds of one target merged: each figure the median of the rounds', errors summed. */
function mergedRounds(rounds) {
  const merged = { errors: rounds.reduce((sum, round) => sum + round.errors, 0) };
  for (const field of Object.keys(rounds[0]).filter((name) => name !== 'errors')) {
    merged[field] = median(rounds.map((round) => round[field]));
  }
  return merged;
}

/**
 * Measures `targets` in PAIRED_ROUNDS rounds, taking turns (each warmed up first, PAIRED_WARMUP_S): each target's merged result,
 * and for each the median over the rounds of its rate divided by `base`'s in the same round.
 */
async function measurePaired(scenario, targets, base) {
  for (const target of targets) await runOnce(scenario, target, PAIRED_WARMUP_S);
  const rounds = Object.fromEntries(targets.map((target) => [target.name, []]));
  for (let round = 0; round < PAIRED_ROUNDS; round += 1) {
    for (const target of targets) {
      rounds[target.name].push(await runOnce(scenario, target, DURATION_S / PAIRED_ROUNDS));
    }
  }
  const results = {};
  const ratios = {};
  for (const target of targets) {
    results[target.name] = mergedRounds(rounds[target.name]);
    ratios[target.name] = median(
      rounds[target.name].map((result, round) => rateOf(scenario, result) / rateOf(scenario, rounds[base][round])),
    );
  }
  return { results, ratios };
}

// --- report ----------------------------------------------------------------------------------------------

const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function printTable(rows) {
  const header = [
    'scenario',
    'target',
    'rate/s',
    'x floor',
    'x floor chain',
    'x chain',
    'x /v1',
    'p50 ms',
    'p99 ms',
    '+p99 vs direct',
    '1st chunk p50',
    'gap p99',
    'errors',
  ];
  const lines = rows.map((row) => [
    row.scenario,
    row.target,
    fixed(row.rate, 0),
    fixed(row.ratioToFloor, 2),
    row.ratioToFloorChain === undefined ? '' : fixed(row.ratioToFloorChain, 2),
    row.ratioToChain === undefined ? '' : fixed(row.ratioToChain, 2),
    row.ratioToChainV1 === undefined ? '' : fixed(row.ratioToChainV1, 2),
    row.kind === 'json' ? fixed(row.p50Ms, 0) : '',
    row.kind === 'json' ? fixed(row.p99Ms, 0) : '',
    row.kind === 'json' ? fixed(row.addedP99Ms, 0) : '',
    row.kind === 'sse'
      ? `${fixed(row.firstChunkP50Ms, 2)} (${row.firstChunkDeltaMs >= 0 ? '+' : ''}${fixed(row.firstChunkDeltaMs, 2)})`
      : '',
    row.kind === 'sse'
      ? `${fixed(row.gapP99Ms, 2)} (${row.gapDeltaMs >= 0 ? '+' : ''}${fixed(row.gapDeltaMs, 2)})`
      : '',
    String(row.errors),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  process.stdout.write(`\n${format(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  for (const line of lines) process.stdout.write(`${format(line)}\n`);
  process.stdout.write('* for anthropic-translate rows: x the openai-relay SSE rate at 32 connections\n');
  process.stdout.write(`* x chain: a team chain's rate as a ratio to ${CHAIN} (GATEWAY_KEYS=off) in the same run\n`);
  process.stdout.write(
    `* x /v1: the same, to ${CHAIN_V1} (GATEWAY_KEYS=off, the team chains' route and body): what keys, limits and the ledger cost;\n` +
      `  these targets take turns in ${PAIRED_ROUNDS} rounds after ${PAIRED_WARMUP_S} s of warm-up each, their figures the medians of the rounds, x /v1 the median of the per-round ratios\n`,
  );
}

function printNotRun(notRun) {
  for (const skipped of notRun) process.stdout.write(`Not run: ${skipped.target}: ${skipped.reason}\n`);
}

function goals(rows, rss) {
  const find = (scenario, target) => rows.find((row) => row.scenario === scenario && row.target === target);
  const checks = [];
  const relayJson = find('json-instant-c32', 'openai-relay');
  if (relayJson)
    checks.push({
      goal: 'openai-relay, instant JSON c32: >= 0.8 x floor',
      value: relayJson.ratioToFloor,
      ok: relayJson.ratioToFloor >= 0.8,
    });
  const relayDelayed = find('json-50ms-c128', 'openai-relay');
  if (relayDelayed)
    checks.push({
      goal: 'openai-relay, 50 ms upstream c128: p99 added < 2 ms',
      value: relayDelayed.addedP99Ms,
      ok: relayDelayed.addedP99Ms < 2,
    });
  const chain = find('json-instant-c32', CHAIN);
  if (chain)
    checks.push({
      goal: 'gateway -> relay, instant JSON c32: >= 0.6 x the floor chain',
      value: chain.ratioToFloorChain,
      ok: chain.ratioToFloorChain >= 0.6,
    });
  const bridge = find('anthropic-translate-c32', 'claude-bridge');
  if (bridge)
    checks.push({
      goal: 'claude-bridge translating stream, c32: >= 0.7 x the relay SSE throughput',
      value: bridge.ratioToFloor,
      ok: bridge.ratioToFloor >= 0.7,
    });
  for (const row of rows.filter((candidate) => candidate.ratioToChainV1 !== undefined))
    checks.push({
      goal: `${row.target}, ${row.scenario}: >= 0.9 x ${CHAIN_V1} (issue 12: team mode costs under 10%)`,
      value: row.ratioToChainV1,
      ok: row.ratioToChainV1 >= 0.9,
    });
  // Issue 3's stream goals are the pass-through stack's; the team chains meter their streams (see the table).
  for (const row of rows.filter(
    (candidate) =>
      candidate.kind === 'sse' &&
      candidate.ratioToChain === undefined &&
      !['direct', 'floor', FLOOR_CHAIN, CHAIN_V1, 'claude-bridge'].includes(candidate.target),
  )) {
    checks.push({
      goal: `${row.target}, ${row.scenario}: first chunk p50 within 1 ms of direct`,
      value: row.firstChunkDeltaMs,
      ok: row.firstChunkDeltaMs <= 1,
    });
    checks.push({
      goal: `${row.target}, ${row.scenario}: gap p99 within 1 ms of direct`,
      value: row.gapDeltaMs,
      ok: row.gapDeltaMs <= 1,
    });
  }
  for (const [service, megabytes] of Object.entries(rss)) {
    if (!service.startsWith('floor'))
      checks.push({
        goal: `${service}: peak RSS < 150 MB`,
        value: megabytes,
        ok: megabytes !== undefined && megabytes < 150,
      });
  }
  const errors = rows.reduce((sum, row) => sum + row.errors, 0);
  checks.push({ goal: 'no error in any run', value: errors, ok: errors === 0 });
  process.stdout.write('\nGoals (issues 3 and 12):\n');
  for (const check of checks)
    process.stdout.write(`  ${check.ok ? 'met ' : 'MISS'}  ${check.goal}  (measured ${fixed(check.value, 2)})\n`);
  return checks;
}

function machine() {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} x ${model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pinning ? 'services under test on CPU 0, load and upstream on CPU 1' : 'no CPU pinning'}`;
}

// --- main ------------------------------------------------------------------------------------------------

async function main() {
  for (const app of ['openai-relay', 'gateway']) {
    if (!existsSync(join(root, 'apps', app, 'dist', 'main.js'))) throw new Error('Build first: npm run build');
  }
  const { targets, translateTargets, notRun, pids } = await startTargets();
  const rows = [];
  for (const scenario of SCENARIOS) {
    const results = {};
    const scenarioTargets = (scenario.translate ? translateTargets : targets).filter(
      (target) => target.scenarios === undefined || target.scenarios.has(scenario.name),
    );
    // Issue 12's targets take turns (measurePaired) when both the team chains and their baseline run here.
    const paired =
      scenarioTargets.some((target) => target.judgedAgainstChain) &&
      scenarioTargets.some((target) => target.name === CHAIN_V1)
        ? scenarioTargets.filter((target) => target.name === CHAIN_V1 || target.judgedAgainstChain)
        : [];
    for (const target of scenarioTargets.filter((candidate) => !paired.includes(candidate))) {
      results[target.name] = await measure(scenario, target);
      process.stdout.write(`  ${scenario.name} / ${target.name}: done\n`);
    }
    let pairedRatios = {};
    if (paired.length > 0) {
      const measured = await measurePaired(scenario, paired, CHAIN_V1);
      Object.assign(results, measured.results);
      pairedRatios = measured.ratios;
      process.stdout.write(`  ${scenario.name} / ${paired.map((target) => target.name).join(', ')}: done (paired)\n`);
    }
    // A translating stream is compared with the relay's SSE at the same concurrency (the issue's goal).
    const relaySse = rows.find((row) => row.scenario === 'sse-20x5ms-c32' && row.target === 'openai-relay');
    const floor = scenario.translate ? { streamsPerSecond: relaySse?.rate ?? NaN } : results.floor;
    const direct = results.direct;
    const floorChain = results[FLOOR_CHAIN];
    for (const target of scenarioTargets) {
      const result = results[target.name];
      const rate = rateOf(scenario, result);
      const floorRate = rateOf(scenario, floor);
      rows.push({
        scenario: scenario.name,
        kind: scenario.kind,
        target: target.name,
        rate,
        ratioToFloor: rate / floorRate,
        ratioToFloorChain: target.chained && floorChain !== undefined ? rate / rateOf(scenario, floorChain) : undefined,
        ratioToChain: target.judgedAgainstChain ? rate / rateOf(scenario, results[CHAIN]) : undefined,
        ratioToChainV1: target.judgedAgainstChain ? pairedRatios[target.name] : undefined,
        ...result,
        addedP99Ms: scenario.kind === 'json' ? result.p99Ms - direct.p99Ms : undefined,
        firstChunkDeltaMs: scenario.kind === 'sse' ? result.firstChunkP50Ms - direct.firstChunkP50Ms : undefined,
        gapDeltaMs: scenario.kind === 'sse' ? result.gapP99Ms - direct.gapP99Ms : undefined,
      });
    }
  }
  const rss = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, peakRssMb(pid)]));
  stopAll();
  process.stdout.write(
    `\nMachine: ${machine()}\nMode: ${quick ? 'quick' : 'full'}, ${DURATION_S} s per run after ${WARMUP_S} s warm-up\n`,
  );
  printTable(rows);
  printNotRun(notRun);
  process.stdout.write(
    `\nPeak RSS (MB): ${Object.entries(rss)
      .map(([name, megabytes]) => `${name} ${megabytes}`)
      .join(', ')}\n`,
  );
  const checks = goals(rows, rss);
  const folder = join(root, 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  const report = {
    date: new Date().toISOString(),
    machine: machine(),
    mode: quick ? 'quick' : 'full',
    durationSeconds: DURATION_S,
    rows,
    notRun,
    peakRssMb: rss,
    goals: checks,
  };
  const stamp = report.date.replace(/[:.]/g, '-');
  writeFileSync(join(folder, `bench-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  if (only !== undefined) {
    process.stdout.write(`\nWrote bench/results/bench-${stamp}.json (a partial run: latest.* kept)\n`);
    return;
  }
  writeFileSync(join(folder, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(folder, 'latest.svg'), renderChart(rows));
  process.stdout.write(`\nWrote bench/results/latest.json and latest.svg\n`);
}

// The load generator (this process) runs on CPU 1, the services under test on CPU 0.
if (pinning && process.env.BENCH_PINNED !== '1') {
  const pinned = spawnSync('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  process.exit(pinned.status ?? 1);
}

const limit = setTimeout(() => {
  process.stderr.write('bench: time limit reached, stopping\n');
  stopAll();
  process.exit(2);
}, HARD_LIMIT_MS);
limit.unref();
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error.message}\n`);
    stopAll();
    process.exit(1);
  },
);
