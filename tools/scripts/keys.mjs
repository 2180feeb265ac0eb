#!/usr/bin/env node
// The gateway's admin API from a terminal (npm run keys -- <command>): gateway keys and team usage.
//   create --name alice [--models 'gpt-*,claude-*'] [--rpm 60] [--tpm 100000] [--budget-usd 20]
//          [--budget-period monthly|total] [--expires-at 2027-01-01T00:00:00Z]   (the new key is the last line)
//   list | get <id> | revoke <id>
//   update <id> [the create options; "none" clears a limit]
//   usage [--start-date YYYY-MM-DD] [--end-date YYYY-MM-DD] [--group-by key|model|day]
// GATEWAY_URL (default http://localhost:3000) and GATEWAY_ADMIN_TOKEN say which gateway and how to enter.
// Add --json to print the API's answer as it came.
import { parseArgs } from 'node:util';

const HELP = `usage: npm run keys -- <create|list|get|update|revoke|usage> [options]
  create --name <name> [--models 'gpt-*,claude-*'] [--rpm N] [--tpm N] [--budget-usd USD]
         [--budget-period monthly|total] [--expires-at ISO-8601]
  list
  get <id>
  update <id> [same options as create; 'none' clears rpm, tpm, budget-usd or expires-at]
  revoke <id>
  usage [--start-date YYYY-MM-DD] [--end-date YYYY-MM-DD] [--group-by key|model|day]
  --json prints the answer as JSON
environment: GATEWAY_URL (default http://localhost:3000), GATEWAY_ADMIN_TOKEN (required)`;

/** Bounds every call: a gateway that does not answer is an error, not a hang. */
const REQUEST_TIMEOUT_MS = 15_000;

const OPTIONS = {
  name: { type: 'string' },
  models: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'budget-usd': { type: 'string' },
  'budget-period': { type: 'string' },
  'expires-at': { type: 'string' },
  'start-date': { type: 'string' },
  'end-date': { type: 'string' },
  'group-by': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** `none` clears a limit (null); anything else must be a number. */
function numberOrNone(value, flag) {
  if (value === undefined) {
    return undefined;
  }
  if (value === 'none') {
    return null;
  }
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) {
    fail(`--${flag} must be a number (or none)`);
  }
  return number;
}

/** The admin API's key fields from the options given (only those given). */
function keyFields(values) {
  const fields = {
    name: values.name,
    models:
      values.models === undefined
        ? undefined
        : values.models
            .split(',')
            .map((model) => model.trim())
            .filter((model) => model !== ''),
    rpm: numberOrNone(values.rpm, 'rpm'),
    tpm: numberOrNone(values.tpm, 'tpm'),
    budget_usd: numberOrNone(values['budget-usd'], 'budget-usd'),
    budget_period: values['budget-period'],
    expires_at: values['expires-at'] === 'none' ? null : values['expires-at'],
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

async function call(method, path, body) {
  const base = (process.env.GATEWAY_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  const token = process.env.GATEWAY_ADMIN_TOKEN;
  if (token === undefined || token === '') {
    fail('GATEWAY_ADMIN_TOKEN is not set: it is the admin token the gateway was started with');
  }
  let answer;
  try {
    answer = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    fail(`cannot reach the gateway at ${base}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await answer.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail(`the gateway answered ${answer.status} with something that is not JSON`);
  }
  if (!answer.ok) {
    fail(`${answer.status}: ${parsed?.error?.message ?? text}`);
  }
  return parsed;
}

function limitText(value, unit) {
  return value === null || value === undefined ? '-' : `${value}${unit}`;
}

function keyLine(key) {
  const state = key.revoked_at
    ? 'revoked'
    : key.expires_at && Date.parse(key.expires_at) <= Date.now()
      ? 'expired'
      : 'active';
  const budget = key.budget_usd === null ? '-' : `$${key.spent_usd ?? 0}/$${key.budget_usd} ${key.budget_period}`;
  const models = key.models.length === 0 ? '*' : key.models.join(',');
  return [
    key.id,
    key.key_prefix ?? '',
    key.name,
    state,
    models,
    limitText(key.rpm, ' rpm'),
    limitText(key.tpm, ' tpm'),
    budget,
  ].join('\t');
}

function printUsage(report) {
  process.stdout.write(`usage ${report.start_date} .. ${report.end_date} by ${report.group_by}\n`);
  for (const row of report.data) {
    const label = row.name === undefined ? row.group : `${row.group} (${row.name})`;
    process.stdout.write(
      `${label}\t${row.requests} requests\t${row.prompt_tokens} prompt\t${row.completion_tokens} completion\t$${row.cost_usd}\n`,
    );
  }
  const total = report.total;
  process.stdout.write(
    `total\t${total.requests} requests\t${total.prompt_tokens} prompt\t${total.completion_tokens} completion\t$${total.cost_usd}\n`,
  );
}

function requireId(positionals) {
  const id = positionals[1];
  if (id === undefined) {
    fail(`${positionals[0]} needs a key id (see: npm run keys -- list)`);
  }
  return encodeURIComponent(id);
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS, allowPositionals: true });
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)}\n${HELP}`);
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const print = (answer, human) =>
    values.json ? process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`) : human(answer);
  switch (command) {
    case 'create': {
      if (values.name === undefined) {
        fail('create needs --name');
      }
      const created = await call('POST', '/admin/keys', keyFields(values));
      print(created, (key) => {
        process.stdout.write(`created ${key.id} (${key.name}); the key is shown once, keep it now:\n${key.key}\n`);
      });
      return;
    }
    case 'list':
      print(await call('GET', '/admin/keys'), (list) => {
        process.stdout.write('id\tprefix\tname\tstate\tmodels\trpm\ttpm\tbudget\n');
        for (const key of list.data) {
          process.stdout.write(`${keyLine(key)}\n`);
        }
      });
      return;
    case 'get':
      print(await call('GET', `/admin/keys/${requireId(positionals)}`), (key) =>
        process.stdout.write(`${keyLine(key)}\n`),
      );
      return;
    case 'update':
      print(await call('PATCH', `/admin/keys/${requireId(positionals)}`, keyFields(values)), (key) =>
        process.stdout.write(`${keyLine(key)}\n`),
      );
      return;
    case 'revoke':
      print(await call('DELETE', `/admin/keys/${requireId(positionals)}`), (key) =>
        process.stdout.write(`revoked ${key.id} (${key.name}) at ${key.revoked_at}\n`),
      );
      return;
    case 'usage': {
      const query = new URLSearchParams();
      for (const [flag, parameter] of [
        ['start-date', 'start_date'],
        ['end-date', 'end_date'],
        ['group-by', 'group_by'],
      ]) {
        if (values[flag] !== undefined) {
          query.set(parameter, values[flag]);
        }
      }
      const suffix = query.size > 0 ? `?${query}` : '';
      print(await call('GET', `/admin/usage${suffix}`), printUsage);
      return;
    }
    default:
      fail(`unknown command "${command}"\n${HELP}`);
  }
}

await main();
