import request from 'supertest';
import { type Stack, startStack } from './support/stack';

const COOKIES = '__Secure-1PSID=g.a000fakePSID;__Secure-1PSIDTS=sidts-fakeTS';

// What the Bard route does is tested on the bard-bridge (apps/bard-bridge/test/bard-cookies.e2e-spec.ts); here
// only that the gateway forwards it, cookies and all.
describe('Bard through browser cookies (POST /google/bard through the gateway)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should forward POST /google/bard to the bard-bridge and answer its bare JSON string', async () => {
    const response = await request(stack.gatewayUrl)
      .post('/google/bard')
      .set('Cookie', COOKIES)
      .send({ prompt: 'hello' });
    expect(response.status).toBe(200);
    expect(response.text).toBe('"Bard turn 1: you said hello"');
    expect(stack.bardWeb.lastRequest('/_/BardChatUi')?.headers.cookie).toBe(
      '__Secure-1PSID=g.a000fakePSID; __Secure-1PSIDTS=sidts-fakeTS',
    );
  });
});
