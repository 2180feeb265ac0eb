import request from 'supertest';
import { CREDENTIAL_HEADER_NAMES, credentialHeaders } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';

const API_KEY = 'sk-ant-api03-credential-test-key';
const OAUTH_TOKEN = 'sk-ant-oat01-credential-test-token';
const OAUTH_BETA = 'oauth-2025-04-20';
const GOOGLE_KEY = 'AIzaCredentialTestKey0123';
const MESSAGE = { model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user' as const, content: 'hi' }] };

/** The credential headers a bridge reads, and the Anthropic API version it passes on. */
const FORWARDED = [...CREDENTIAL_HEADER_NAMES, 'anthropic-version'];

// How each bridge sends the credentials it is given is tested on the bridge (apps/claude-bridge/test/
// anthropic-credentials.e2e-spec.ts, apps/bard-bridge/test/gemini-credentials.e2e-spec.ts); here only that the
// gateway forwards every header a bridge reads them from, unchanged, through the bridges' transparent relays.
describe('provider credentials through the gateway, forwarded as the client sent them', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should forward x-api-key, anthropic-version and anthropic-beta to the claude-bridge unchanged', async () => {
    const response = await request(stack.gatewayUrl)
      .post('/anthropic/v1/messages')
      .set({ 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'tools-2024-04-04' })
      .send(MESSAGE);
    expect(response.status).toBe(200);
    expect(credentialHeaders(stack.anthropic.lastRequest('/v1/messages'), FORWARDED)).toEqual({
      authorization: undefined,
      'x-api-key': API_KEY,
      'x-goog-api-key': undefined,
      'anthropic-beta': 'tools-2024-04-04',
      'anthropic-version': '2023-06-01',
    });
  });

  it('should forward an OAuth token as Authorization: Bearer with its anthropic-beta unchanged', async () => {
    const response = await request(stack.gatewayUrl)
      .post('/anthropic/v1/messages')
      .set({ authorization: `Bearer ${OAUTH_TOKEN}`, 'anthropic-beta': OAUTH_BETA })
      .send(MESSAGE);
    expect(response.status).toBe(200);
    expect(credentialHeaders(stack.anthropic.lastRequest('/v1/messages'), FORWARDED)).toMatchObject({
      authorization: `Bearer ${OAUTH_TOKEN}`,
      'x-api-key': undefined,
      'anthropic-beta': OAUTH_BETA,
    });
  });

  it('should forward x-goog-api-key to the bard-bridge unchanged', async () => {
    const response = await request(stack.gatewayUrl).get('/gemini/v1beta/models').set('x-goog-api-key', GOOGLE_KEY);
    expect(response.status).toBe(200);
    expect(credentialHeaders(stack.gemini.lastRequest('/v1beta/models'), FORWARDED)).toMatchObject({
      authorization: undefined,
      'x-goog-api-key': GOOGLE_KEY,
    });
  });
});
