// Stops the servers global-setup.ts started.
import type { TestServer } from '../../libs/shared/testing-fakes/src/lib/test-servers';

declare global {
  var __TEST_SERVERS__: TestServer[] | undefined;
}

export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__TEST_SERVERS__ ?? []).map((server) => server.stop()));
}
