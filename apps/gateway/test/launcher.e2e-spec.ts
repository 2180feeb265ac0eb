import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';

const root = join(__dirname, '..', '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('npm run demo (tools/scripts/launch.mjs --demo)', () => {
  it('should start the four services against the fake upstreams and stop them all on SIGINT', async () => {
    const [gateway, relay, claude, bard] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const launcher = spawn(process.execPath, [join(root, 'tools/scripts/launch.mjs'), '--demo'], {
      cwd: root,
      env: {
        ...process.env,
        GATEWAY_PORT: String(gateway),
        OPENAI_RELAY_PORT: String(relay),
        CLAUDE_BRIDGE_PORT: String(claude),
        BARD_BRIDGE_PORT: String(bard),
        LOG_LEVEL: 'warn',
      },
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
