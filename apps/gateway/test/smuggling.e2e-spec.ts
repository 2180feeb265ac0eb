import type { FakeHandler, FakeUpstream } from '@openai-proxy/testing-fakes';
// The raw-socket attempts are the relay tests' own: the gateway must refuse and relay them the same way.
import {
  BODY_FRAMINGS,
  MALFORMED_REQUEST_ERROR,
  REFUSED_FRAMINGS,
  expectMalformedRequestAnswer,
  firstRawAnswer,
  hiddenRequest,
  pipelinedPair,
  requestsNaming,
  sendRawBytes,
} from '../../openai-relay/test/support/hostile-input';
import { type Stack, startStack } from './support/stack';

/** Answers with the path it was asked for, so an answer that belongs to another request shows. */
const answerOwnPath: FakeHandler = (request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ path: request.url }));
};

/** One transparent relay behind the gateway: its public prefix and the fake it ends at. */
interface RelayedRoute {
  prefix: string;
  /** The fake it ends at, which sees `/<prefix><rest>` as `<rest>`. */
  fake: (stack: Stack) => FakeUpstream;
}

const ROUTES: readonly RelayedRoute[] = [
  { prefix: '/openai', fake: (stack) => stack.openai },
  { prefix: '/anthropic', fake: (stack) => stack.anthropic },
  { prefix: '/gemini', fake: (stack) => stack.gemini },
];

/** Every request the stack's provider fakes recorded, in no particular order. */
function allRecorded(stack: Stack): number {
  return stack.openai.requests.length + stack.anthropic.requests.length + stack.gemini.requests.length;
}

describe('rule: a smuggled request never reaches the upstream (through the gateway, raw socket)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    for (const route of ROUTES) {
      route.fake(stack).on('*', /^\/v1\/(hostile|first|second)$/, answerOwnPath);
    }
  });

  afterAll(() => stack.close());

  it.each(REFUSED_FRAMINGS.map((attempt) => [attempt.name, attempt] as const))(
    'should answer 400 with the OpenAI error envelope at the edge and close, no service or upstream receiving anything, for %s',
    async (_name, attempt) => {
      const before = allRecorded(stack);
      const sent = attempt.bytes({ path: '/openai/v1/hostile', smuggledPath: '/openai/v1/smuggled' });
      const answers = await sendRawBytes(stack.gatewayUrl, sent);
      expect(answers.statuses).toEqual([400]);
      expect(answers.closed).toBe(true);
      expectMalformedRequestAnswer(answers.text, sent);
      expect(JSON.parse(firstRawAnswer(answers.text).body)).toEqual(MALFORMED_REQUEST_ERROR);
      expect(allRecorded(stack)).toBe(before);
    },
  );

  it('should answer a head over the header size limit with 431 and the OpenAI error envelope, then close', async () => {
    const before = allRecorded(stack);
    const sent = `GET /openai/v1/hostile HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`;
    const answers = await sendRawBytes(stack.gatewayUrl, sent);
    expect(answers.statuses).toEqual([431]);
    expect(answers.closed).toBe(true);
    expectMalformedRequestAnswer(answers.text, sent, 431);
    expect(allRecorded(stack)).toBe(before);
  });

  describe.each(ROUTES.map((route) => [route.prefix, route] as const))('on %s/**', (prefix, route) => {
    const target = { path: `${prefix}/v1/hostile`, smuggledPath: `${prefix}/v1/smuggled` };

    it.each(BODY_FRAMINGS.map((attempt) => [attempt.name, attempt] as const))(
      'should relay %s as one upstream request carrying the hidden request as its body, byte for byte',
      async (_name, attempt) => {
        const fake = route.fake(stack);
        const before = fake.requests.length;
        const answers = await sendRawBytes(stack.gatewayUrl, attempt.bytes(target));
        expect(answers.statuses).toEqual([200]);
        expect(answers.text).toContain(JSON.stringify({ path: '/v1/hostile' }));
        const arrived = fake.requests.slice(before);
        expect(arrived.map((request) => `${request.method} ${request.url}`)).toEqual([`POST ${'/v1/hostile'}`]);
        expect(arrived[0]?.body.toString('latin1')).toBe(hiddenRequest(target.smuggledPath));
        expect(requestsNaming(fake.requests, 'smuggled')).toEqual([]);
      },
    );

    it('should keep the pooled connections in step: the next two pipelined requests get their own answers', async () => {
      const fake = route.fake(stack);
      const before = fake.requests.length;
      const answers = await sendRawBytes(stack.gatewayUrl, pipelinedPair(`${prefix}/v1/first`, `${prefix}/v1/second`));
      expect(answers.statuses).toEqual([200, 200]);
      const first = answers.text.indexOf(JSON.stringify({ path: '/v1/first' }));
      const second = answers.text.indexOf(JSON.stringify({ path: '/v1/second' }));
      expect(first).toBeGreaterThan(-1);
      expect(second).toBeGreaterThan(first);
      expect(fake.requests.slice(before).map((request) => request.url)).toEqual(['/v1/first', '/v1/second']);
      expect(requestsNaming(fake.requests, 'smuggled')).toEqual([]);
    });
  });
});
