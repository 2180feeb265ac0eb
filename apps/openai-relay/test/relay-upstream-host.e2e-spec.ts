import { FakeUpstream, json, startFakeOpenAi } from '@openai-proxy/testing-fakes';
import {
  type HostAttemptSetup,
  UPSTREAM_HOST_ATTEMPTS,
  allowedHostOutcome,
  hostAttemptTarget,
  tryUpstreamHost,
} from './support/hostile-input';
import { type RunningRelay, startRelay } from './support/relay-app';

/** The configured base path of the upstream (relay-paths.e2e-spec covers plain dot segments against it). */
const BASE_PATH = '/anth';

describe('rule: no client header or path chooses the upstream host or leaves its base path (openai-relay)', () => {
  let relay: RunningRelay;
  let setup: HostAttemptSetup;

  beforeAll(async () => {
    const evil = (await FakeUpstream.start()).on('*', /.*/, json(200, { evil: true }));
    const upstream = (await startFakeOpenAi()).on('*', /.*/, json(200, { relayed: true }));
    relay = await startRelay({ OPENAI_API_BASE: `${upstream.url}${BASE_PATH}` });
    setup = { edgeUrl: relay.url, upstream, basePath: BASE_PATH, evil };
  });

  afterAll(async () => {
    await relay.app.close();
    await setup.upstream.close();
    await setup.evil.close();
  });

  it.each(UPSTREAM_HOST_ATTEMPTS.map((attempt) => [attempt.name, attempt] as const))(
    'should connect to the configured upstream only, under its base path, for %s',
    async (_name, attempt) => {
      const target = hostAttemptTarget(setup, '/openai', '/v1/models');
      expect(await tryUpstreamHost(setup, attempt, target)).toEqual(allowedHostOutcome(setup, attempt, target));
    },
  );
});
