import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { SERVICES_MANIFEST, type ServiceName } from '@openai-proxy/util-services';

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

/** The launcher's services (every service of the manifest) and the port each listens on. */
export type Ports = Record<ServiceName, number>;

/** One port the OS just had free per service of the manifest. */
export async function freePorts(): Promise<Ports> {
  const names = SERVICES_MANIFEST.services.map((service) => service.name);
  const ports = await Promise.all(names.map(() => freePort()));
  return Object.fromEntries(names.map((name, index) => [name, ports[index]])) as Ports;
}

/** The launcher's port settings for `ports`: each service's port variable (GATEWAY_PORT, …). */
export function portEnvironment(ports: Ports): Record<string, string> {
  return Object.fromEntries(
    SERVICES_MANIFEST.services.map((service) => [service.portVariable, String(ports[service.name])]),
  );
}

/** Resolves with the child's exit code once it exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
