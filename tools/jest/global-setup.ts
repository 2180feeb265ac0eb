// Starts the test run's PostgreSQL and Redis (real servers from the machine's packages, on 127.0.0.1) and hands
// their URLs to every test through the environment. A server that cannot start is not skipped: its reason is
// handed on instead, and each test that needs it fails with that reason. A URL already set is used as it is.
import {
  TEST_POSTGRES_PROBLEM,
  TEST_POSTGRES_URL,
  TEST_REDIS_PROBLEM,
  TEST_REDIS_URL,
  type TestServer,
  startPostgresServer,
  startRedisServer,
} from '../../libs/shared/testing-fakes/src/lib/test-servers';

declare global {
  var __TEST_SERVERS__: TestServer[] | undefined;
}

async function provide(
  variable: string,
  problem: string,
  start: () => Promise<TestServer>,
): Promise<TestServer | undefined> {
  if ((process.env[variable] ?? '') !== '') {
    return undefined;
  }
  try {
    const server = await start();
    process.env[variable] = server.url;
    return server;
  } catch (error) {
    process.env[problem] = error instanceof Error ? error.message : String(error);
    return undefined;
  }
}

export default async function globalSetup(): Promise<void> {
  const started = await Promise.all([
    provide(TEST_POSTGRES_URL, TEST_POSTGRES_PROBLEM, startPostgresServer),
    provide(TEST_REDIS_URL, TEST_REDIS_PROBLEM, startRedisServer),
  ]);
  globalThis.__TEST_SERVERS__ = started.filter((server): server is TestServer => server !== undefined);
}
