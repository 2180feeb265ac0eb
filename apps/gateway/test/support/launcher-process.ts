import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A port the OS just had free on 127.0.0.1 (for the launcher's *_PORT settings). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Polls `url` until it answers 200 (a launched service is up), at most `timeoutMs`. */
export async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
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

/** The launcher's services and the port each listens on. */
export type Ports = Record<'gateway' | 'openai-relay' | 'claude-bridge' | 'bard-bridge', number>;

/** Four ports the OS just had free, one per service. */
export async function freePorts(): Promise<Ports> {
  const [gateway, relay, claude, bard] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  return { gateway, 'openai-relay': relay, 'claude-bridge': claude, 'bard-bridge': bard };
}

/** The launcher's port settings for `ports`. */
export function portEnvironment(ports: Ports): Record<string, string> {
  return {
    GATEWAY_PORT: String(ports.gateway),
    OPENAI_RELAY_PORT: String(ports['openai-relay']),
    CLAUDE_BRIDGE_PORT: String(ports['claude-bridge']),
    BARD_BRIDGE_PORT: String(ports['bard-bridge']),
  };
}

/** Resolves with the child's exit code once it exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
