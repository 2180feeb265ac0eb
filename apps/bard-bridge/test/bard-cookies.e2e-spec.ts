import request from 'supertest';
import {
  FAKE_BARD_STREAM_GENERATE,
  captureLog,
  leaveWhileStalled,
  leavingBardAsk,
  metricSample,
  stall,
} from '@openai-proxy/testing-fakes';
import { type BardBridgeOnFakes, startBardBridgeOnFakes } from './support/bard-bridge-app';

const COOKIES = '__Secure-1PSID=g.a000fakePSID;__Secure-1PSIDTS=sidts-fakeTS';

describe('Bard through browser cookies (POST /google/bard on the bard-bridge)', () => {
  const log = captureLog();
  let bridge: BardBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startBardBridgeOnFakes({ LOG_LEVEL: 'debug' }, { logDestination: log.destination });
  });

  afterAll(() => bridge.close());

  it('should answer a bare JSON string, with the cookies joined by "; " and f.req built from the prompt', async () => {
    const response = await request(bridge.url).post('/google/bard').set('Cookie', COOKIES).send({ prompt: 'hello' });
    expect(response.status).toBe(200);
    expect(response.text).toBe('"Bard turn 1: you said hello"');
    const generate = bridge.bardWeb.lastRequest('/_/BardChatUi');
    expect(generate?.headers.cookie).toBe('__Secure-1PSID=g.a000fakePSID; __Secure-1PSIDTS=sidts-fakeTS');
    expect(generate?.url).toMatch(/\?bl=boq_assistant-bard-web-server_20260101\.00_p0&_reqid=\d+&rt=c$/);
    const form = new URLSearchParams(generate?.body.toString());
    expect(form.get('f.req')).toBe('[null,"[[\\"hello\\"],null,[\\"\\",\\"\\",\\"\\"]]"]');
    expect(form.get('at')).toBe('AFake=Token');
  });

  it('should read the body as JSON when curl -d sends it as a form, as the original did', async () => {
    const response = await request(bridge.url)
      .post('/google/bard')
      .set('Cookie', COOKIES)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('{"prompt":"from curl"}');
    expect(response.status).toBe(200);
    expect(response.body).toBe('Bard turn 1: you said from curl');
  });

  it('should scrape the page once for a while, and continue a conversation given its id', async () => {
    const scrapesBefore = bridge.bardWeb.requests.filter((arrived) => arrived.url === '/app').length;
    const first = await request(bridge.url)
      .post('/google/bard')
      .set('Cookie', COOKIES)
      .send({ prompt: 'one', conversationId: 'chat-1' });
    const second = await request(bridge.url)
      .post('/google/bard')
      .set('Cookie', COOKIES)
      .send({ prompt: 'two', conversationId: 'chat-1' });
    const fresh = await request(bridge.url).post('/google/bard').set('Cookie', COOKIES).send({ prompt: 'three' });
    expect([first.body, second.body, fresh.body]).toEqual([
      'Bard turn 1: you said one',
      'Bard turn 2: you said two',
      'Bard turn 1: you said three',
    ]);
    const followUp = [...bridge.bardWeb.requests].reverse().find((arrived) => arrived.body.toString().includes('two'));
    const inner = JSON.parse(
      JSON.parse(new URLSearchParams(followUp?.body.toString()).get('f.req') ?? '')[1] as string,
    ) as unknown[];
    expect(inner[2]).toEqual([expect.stringMatching(/^c_fake\d+$/), 'r_1', 'rc_1a']);
    expect(bridge.bardWeb.requests.filter((arrived) => arrived.url === '/app').length).toBe(scrapesBefore);
  });

  it('should answer 401 for missing or rejected cookies and 400 without a prompt, as JSON errors', async () => {
    const missing = await request(bridge.url)
      .post('/google/bard')
      .set('Cookie', '__Secure-1PSID=g.a000x')
      .send({ prompt: 'x' });
    expect(missing.status).toBe(401);
    expect(missing.body.error.message).toContain('__Secure-1PSIDTS');
    const expired = await request(bridge.url)
      .post('/google/bard')
      .set('Cookie', '__Secure-1PSID=old;__Secure-1PSIDTS=old')
      .send({ prompt: 'x' });
    expect(expired.status).toBe(401);
    expect(expired.body.error.type).toBe('authentication_error');
    const noPrompt = await request(bridge.url).post('/google/bard').set('Cookie', COOKIES).send({});
    expect(noPrompt.status).toBe(400);
    expect(noPrompt.body.error.param).toBe('prompt');
    expect(log.text()).not.toBe('');
    expect(log.text()).not.toContain('fakePSID');
  });

  it('should answer 502 and count it as upstream_bad_response when Bard answers something that cannot be parsed', async () => {
    bridge.bardWeb.on('POST', FAKE_BARD_STREAM_GENERATE, (_arrived, response) => {
      response.writeHead(200).end(`)]}'\n\n[["wrb.fr",null,null,null,null,[9]]]\n`);
    });
    const series = 'upstream_errors_total{upstream="bard",kind="upstream_bad_response"}';
    const before = await metricSample(bridge.url, series);
    const response = await request(bridge.url).post('/google/bard').set('Cookie', COOKIES).send({ prompt: 'x' });
    expect(response.status).toBe(502);
    expect(response.body.error.message).toContain('could not be read');
    expect(await metricSample(bridge.url, series)).toBe(before + 1);
  });
});

// Regression: the Bard control-plane calls ignored a client that left, and kept their upstream call open until
// the headers timeout (two minutes by default).
describe('Bard calls when the client leaves', () => {
  let bridge: BardBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startBardBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  it('should close the Bard answer call when the client leaves while Bard stalls', async () => {
    bridge.bardWeb.on('POST', FAKE_BARD_STREAM_GENERATE, stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      bridge.bardWeb,
      leavingBardAsk('g.a000abortGenerate'),
      (request) => request.url.startsWith(FAKE_BARD_STREAM_GENERATE),
    );
    expect(arrived.closedEarly).toBe(true);
  });

  // After the StreamGenerate test: this stall replaces the page for the rest of the file.
  it("should close the Bard page call when the client leaves while Bard's page stalls", async () => {
    bridge.bardWeb.on('GET', '/app', stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      bridge.bardWeb,
      leavingBardAsk('g.a000abortScrape'),
      (request) => request.url === '/app' && String(request.headers.cookie).includes('abortScrape'),
    );
    expect(arrived.closedEarly).toBe(true);
  });
});
