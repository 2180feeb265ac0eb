import { freeLoopbackPort } from '@openai-proxy/testing-fakes';
import { ADMIN_TOKEN, callJson, errorOf, eventually, teamClient } from './support/admin-api';
import { type CliRun, runKeysCli } from './support/keys-cli';
import { type Stack, startStack } from './support/stack';

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

describe('npm run keys (tools/scripts/keys.mjs) against a running gateway', () => {
  let stack: Stack;
  let env: Record<string, string>;
  const keys = (...args: string[]): Promise<CliRun> => runKeysCli(args, env);

  beforeAll(async () => {
    stack = await startStack({
      gatewayEnv: {
        GATEWAY_KEYS: 'required',
        GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
        OPENAI_API_KEY: 'sk-team-openai-0123456789',
        DATABASE_URL: 'sqlite::memory:',
      },
    });
    env = { GATEWAY_URL: stack.gatewayUrl, GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN };
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should create a key and print it on the last line, and that key should work', async () => {
    const run = await keys(
      'create',
      '--name',
      'alice',
      '--models',
      'gpt-*, claude-*',
      '--rpm',
      '60',
      '--tpm',
      '100000',
      '--budget-usd',
      '20',
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const key = lastLine(run.stdout);
    expect(key).toMatch(/^gk-[A-Za-z0-9_-]{43}$/);
    expect(run.stdout).toMatch(/^created key_[A-Za-z0-9_-]{16} \(alice\); the key is shown once, keep it now:\n/);
    const completion = await teamClient(stack.gatewayUrl, key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'from the cli' }],
    });
    expect(completion.choices[0]?.message.content).toContain('You said: from the cli');
  });

  it('should list, get, update, show usage of and revoke a key', async () => {
    const created = JSON.parse((await keys('create', '--name', 'bob', '--budget-usd', '5', '--json')).stdout) as {
      id: string;
      key: string;
      budget_usd: number;
    };
    expect(created.budget_usd).toBe(5);
    await teamClient(stack.gatewayUrl, created.key).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'metered' }],
    });

    // spent_usd counts the request once its ledger row is recorded, as its answer ends.
    const list = await eventually(
      () => keys('list'),
      (run) => run.stdout.includes('$0.000006/$5 monthly'),
    );
    expect(list.code).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split('\n');
    expect(header).toBe('id\tprefix\tname\tstate\tmodels\trpm\ttpm\tbudget');
    expect(rows.find((row) => row.startsWith(created.id))?.split('\t')).toEqual([
      created.id,
      created.key.slice(0, 8),
      'bob',
      'active',
      '*',
      '-',
      '-',
      '$0.000006/$5 monthly',
    ]);
    expect(list.stdout).not.toContain(created.key);

    const got = await keys('get', created.id);
    expect(got.code).toBe(0);
    expect(got.stdout.split('\t').slice(0, 4)).toEqual([created.id, created.key.slice(0, 8), 'bob', 'active']);

    const updated = await keys('update', created.id, '--name', 'bob-2', '--rpm', '30', '--budget-usd', 'none');
    expect(updated.code).toBe(0);
    expect(updated.stdout.trimEnd().split('\t')).toEqual([
      created.id,
      created.key.slice(0, 8),
      'bob-2',
      'active',
      '*',
      '30 rpm',
      '-',
      '-',
    ]);

    const usage = await eventually(
      () => keys('usage', '--group-by', 'key'),
      (run) => run.stdout.includes(`${created.id} (bob-2)\t1 requests`),
    );
    expect(usage.code).toBe(0);
    expect(usage.stdout).toContain(`${created.id} (bob-2)\t1 requests\t9 prompt\t7 completion\t$0.000006\n`);
    expect(usage.stdout).toMatch(/^usage \d{4}-\d{2}-01 \.\. \d{4}-\d{2}-\d{2} by key\n/);

    const revoked = await keys('revoke', created.id);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked ${created.id} \\(bob-2\\) at \\d{4}-\\d{2}-\\d{2}T`));
    const refused = await callJson(stack.gatewayUrl, 'POST', '/v1/chat/completions', {
      token: created.key,
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'after' }] },
    });
    expect(errorOf(refused)).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect((await keys('get', created.id)).stdout.split('\t')[3]).toBe('revoked');
  });

  it('should print the answer as JSON with --json', async () => {
    const run = await keys('usage', '--start-date', '2020-01-01', '--end-date', '2020-01-02', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      object: 'list',
      start_date: '2020-01-01',
      end_date: '2020-01-02',
      group_by: 'day',
      data: [],
      total: { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    });
  });

  it.each([
    [['get', 'key_unknown0000000000'], '404: No gateway key has the id key_unknown0000000000'],
    [['create', '--name', 'x', '--rpm', '0'], '400: rpm must be a positive integer or null'],
    [['create', '--name', 'x', '--rpm', 'lots'], '--rpm must be a number (or none)'],
    [['create'], 'create needs --name'],
    [['revoke'], 'revoke needs a key id (see: npm run keys -- list)'],
    [['usage', '--group-by', 'week'], '400: group_by must be key, model or day'],
    [['rotate'], 'unknown command "rotate"'],
  ])('should exit 1 with the reason for %j', async (args, reason) => {
    const run = await keys(...args);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(reason);
  });

  it('should exit 1 without the admin token, or with a wrong one, and never print the token', async () => {
    const missing = await runKeysCli(['list'], { GATEWAY_URL: stack.gatewayUrl });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('GATEWAY_ADMIN_TOKEN is not set: it is the admin token the gateway was started with\n');
    const wrongToken = 'wrong-admin-token-0123456789';
    const wrong = await runKeysCli(['list'], { GATEWAY_URL: stack.gatewayUrl, GATEWAY_ADMIN_TOKEN: wrongToken });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      '401: The admin API needs the admin token: send Authorization: Bearer $GATEWAY_ADMIN_TOKEN\n',
    );
    expect(`${wrong.stdout}${wrong.stderr}`).not.toContain(wrongToken);
  });

  it('should exit 1 naming the gateway it cannot reach', async () => {
    const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const run = await runKeysCli(['list'], { GATEWAY_URL: closed, GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^cannot reach the gateway at ${closed}: `));
  });

  it('should print its usage with --help and with no command', async () => {
    for (const args of [['--help'], []]) {
      const run = await runKeysCli(args, {});
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^usage: npm run keys -- <create\|list\|get\|update\|revoke\|usage> \[options\]\n/);
    }
  });
});
