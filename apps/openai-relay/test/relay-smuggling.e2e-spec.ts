import { json } from '@openai-proxy/testing-fakes';
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
} from './support/hostile-input';
import { type RelayOnFakeOpenAi, startRelayOnFakeOpenAi } from './support/relay-app';

const TARGET = { path: '/openai/v1/hostile', smuggledPath: '/openai/v1/smuggled' };

describe('rule: a smuggled request never reaches the upstream (openai-relay, raw socket)', () => {
  let relay: RelayOnFakeOpenAi;

  beforeAll(async () => {
    relay = await startRelayOnFakeOpenAi();
    relay.openai.on('*', /^\/v1\/(hostile|first|second)$/, json(200, { ok: true }));
  });

  afterAll(() => relay.close());

  it.each(REFUSED_FRAMINGS.map((attempt) => [attempt.name, attempt] as const))(
    'should answer 400 with the OpenAI error envelope and close, sending the upstream nothing, for %s',
    async (_name, attempt) => {
      const before = relay.openai.requests.length;
      const sent = attempt.bytes(TARGET);
      const answers = await sendRawBytes(relay.url, sent);
      expect(answers.statuses).toEqual([400]);
      expect(answers.closed).toBe(true);
      expectMalformedRequestAnswer(answers.text, sent);
      expect(JSON.parse(firstRawAnswer(answers.text).body)).toEqual(MALFORMED_REQUEST_ERROR);
      expect(relay.openai.requests.length).toBe(before);
      expect(requestsNaming(relay.openai.requests, 'smuggled')).toEqual([]);
    },
  );

  it.each(BODY_FRAMINGS.map((attempt) => [attempt.name, attempt] as const))(
    'should send %s upstream as one request whose body is the hidden request, byte for byte',
    async (_name, attempt) => {
      const before = relay.openai.requests.length;
      const answers = await sendRawBytes(relay.url, attempt.bytes(TARGET));
      expect(answers.statuses).toEqual([200]);
      const arrived = relay.openai.requests.slice(before);
      expect(arrived.map((request) => `${request.method} ${request.url}`)).toEqual(['POST /v1/hostile']);
      expect(arrived[0]?.body.toString('latin1')).toBe(hiddenRequest(TARGET.smuggledPath));
      expect(requestsNaming(relay.openai.requests, 'smuggled')).toEqual([]);
    },
  );

  it('should relay two requests pipelined by the client as the two requests they are (the count can see a second one)', async () => {
    const before = relay.openai.requests.length;
    const answers = await sendRawBytes(relay.url, pipelinedPair('/openai/v1/first', '/openai/v1/second'));
    expect(answers.statuses).toEqual([200, 200]);
    expect(relay.openai.requests.slice(before).map((request) => request.url)).toEqual(['/v1/first', '/v1/second']);
  });
});
