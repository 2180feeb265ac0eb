import { FakeUpstream, json, startFakeAnthropic, startFakeOpenAi } from '@openai-proxy/testing-fakes';
// The attempts are the relay tests' own: through the gateway each must end at the same upstream, or nowhere.
import {
  type HostAttemptSetup,
  type HostAttemptTarget,
  UPSTREAM_HOST_ATTEMPTS,
  type UpstreamHostAttempt,
  allowedHostOutcome,
  hostAttemptTarget,
  rawHttp,
  refusedAttempt,
  relayedAttempt,
  tryUpstreamHost,
} from '../../openai-relay/test/support/hostile-input';
import { type Stack, startStack } from './support/stack';

/** The base path configured for the OpenAI and Anthropic fakes (the stack's Gemini base has none). */
const BASE_PATH = '/base';

/** One transparent relay behind the gateway: its prefix, an ordinary path below it, and where it ends. */
interface RelayedRoute {
  prefix: string;
  rest: string;
  upstream: (fakes: Fakes) => FakeUpstream;
  basePath: string;
}

/** The upstream fakes behind the stack's relays. */
interface Fakes {
  openai: FakeUpstream;
  anthropic: FakeUpstream;
  gemini: FakeUpstream;
}

/** The transparent relays the rule covers, each with its own upstream. */
const RELAYED_ROUTES: readonly RelayedRoute[] = [
  { prefix: '/openai', rest: '/v1/models', upstream: (fakes) => fakes.openai, basePath: BASE_PATH },
  { prefix: '/anthropic', rest: '/v1/models', upstream: (fakes) => fakes.anthropic, basePath: BASE_PATH },
  { prefix: '/gemini', rest: '/v1beta/models', upstream: (fakes) => fakes.gemini, basePath: '' },
];

/** A chat request to the team endpoint for `model`, as a client's bytes. */
function chatFor(model: string, target = '/v1/chat/completions', headers: Record<string, string> = {}): string {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
  return rawHttp(
    'POST',
    target,
    { authorization: 'Bearer sk-test-0123456789', 'content-type': 'application/json', ...headers },
    body,
  );
}

/** The team endpoint's chat path, which is where the OpenAI upstream gets it too (below its base path). */
const chatPath = ({ prefix, rest }: HostAttemptTarget): string => `${prefix}${rest}`;

/** Attempts on `/v1/chat/completions`: its path is fixed, so only headers, the target form and the model can try. */
const V1_ATTEMPTS: readonly UpstreamHostAttempt[] = [
  relayedAttempt(
    'Host naming another host',
    ({ evilHost }) => chatFor('gpt-4o-mini', undefined, { host: evilHost }),
    chatPath,
  ),
  relayedAttempt(
    'X-Forwarded-Host and Forwarded naming another host',
    ({ evilHost }) =>
      chatFor('gpt-4o-mini', undefined, { 'x-forwarded-host': evilHost, forwarded: `host=${evilHost}` }),
    chatPath,
  ),
  relayedAttempt(
    'a query naming another host',
    ({ evilHost }) => chatFor('gpt-4o-mini', `/v1/chat/completions?base_url=http://${evilHost}/v1`),
    chatPath,
  ),
  relayedAttempt('a model name with @host', ({ evilHost }) => chatFor(`gpt-4o-mini@${evilHost}`), chatPath),
  refusedAttempt(
    'an absolute-form target naming another host',
    ({ evilHost }) => chatFor('gpt-4o-mini', `http://${evilHost}/v1/chat/completions`),
    404,
  ),
  refusedAttempt(
    'a #fragment naming another host',
    ({ evilHost }) => chatFor('gpt-4o-mini', `/v1/chat/completions#@${evilHost}`),
    400,
  ),
  refusedAttempt('a //host path', ({ evilHost }) => chatFor('gpt-4o-mini', `/v1//${evilHost}/chat/completions`), 404),
  refusedAttempt('an @host path', ({ evilHost }) => chatFor('gpt-4o-mini', `/v1/@${evilHost}/chat/completions`), 404),
  refusedAttempt('a model that is a URL of another host', ({ evilHost }) => chatFor(`http://${evilHost}/v1`), 404),
  refusedAttempt('a model that is a //host reference', ({ evilHost }) => chatFor(`//${evilHost}/v1`), 404),
  refusedAttempt('a model with dot segments', () => chatFor('../../admin/keys'), 404),
];

describe('rule: no client header or path chooses the upstream host or leaves its base path (through the gateway)', () => {
  let evil: FakeUpstream;
  let fakes: Fakes;
  let stack: Stack;

  beforeAll(async () => {
    evil = (await FakeUpstream.start()).on('*', /.*/, json(200, { evil: true }));
    const openai = (await startFakeOpenAi()).on('*', /.*/, json(200, { relayed: 'openai' }));
    const anthropic = (await startFakeAnthropic()).on('*', /.*/, json(200, { relayed: 'anthropic' }));
    stack = await startStack({
      relayEnv: { OPENAI_API_BASE: `${openai.url}${BASE_PATH}` },
      claudeEnv: { ANTHROPIC_API_BASE: `${anthropic.url}${BASE_PATH}` },
    });
    stack.gemini.on('*', /.*/, json(200, { relayed: 'gemini' }));
    fakes = { openai, anthropic, gemini: stack.gemini };
  });

  afterAll(async () => {
    await stack.close();
    await Promise.all([fakes.openai.close(), fakes.anthropic.close(), evil.close()]);
  });

  function setupFor(upstream: FakeUpstream, basePath: string): HostAttemptSetup {
    return { edgeUrl: stack.gatewayUrl, upstream, basePath, evil };
  }

  describe.each(RELAYED_ROUTES.map((route) => [route.prefix, route] as const))('on %s/**', (prefix, route) => {
    it.each(UPSTREAM_HOST_ATTEMPTS.map((attempt) => [attempt.name, attempt] as const))(
      'should connect to the configured upstream only, under its base path, for %s',
      async (_name, attempt) => {
        const setup = setupFor(route.upstream(fakes), route.basePath);
        const target = hostAttemptTarget(setup, prefix, route.rest);
        expect(await tryUpstreamHost(setup, attempt, target)).toEqual(allowedHostOutcome(setup, attempt, target));
      },
    );
  });

  describe('on /v1/chat/completions', () => {
    it.each(V1_ATTEMPTS.map((attempt) => [attempt.name, attempt] as const))(
      'should connect to the configured upstream only, at its chat path, for %s',
      async (_name, attempt) => {
        const setup = setupFor(fakes.openai, BASE_PATH);
        const target = hostAttemptTarget(setup, '/v1', '/chat/completions');
        expect(await tryUpstreamHost(setup, attempt, target)).toEqual(allowedHostOutcome(setup, attempt, target));
      },
    );
  });
});
