import OpenAI from 'openai';
import request from 'supertest';
import { credentialHeaders } from '@openai-proxy/testing-fakes';
import { type BardBridgeOnFakes, startBardBridgeOnFakes } from './support/bard-bridge-app';

const GOOGLE_KEY = 'AIzaCredentialTestKey0123';
const GOOGLE_OAUTH_TOKEN = 'ya29.a0CredentialTestToken';

describe('Gemini credentials on the bard-bridge, passed as the client sent them', () => {
  let bridge: BardBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startBardBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  describe('/gemini/**', () => {
    it('should send an API key given as Authorization: Bearer as x-goog-api-key, and no Authorization', async () => {
      const response = await request(bridge.url)
        .get('/gemini/v1beta/models')
        .set('Authorization', `Bearer ${GOOGLE_KEY}`);
      expect(response.status).toBe(200);
      expect(credentialHeaders(bridge.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: undefined,
        'x-goog-api-key': GOOGLE_KEY,
      });
    });

    it('should relay an OAuth access token as Authorization: Bearer', async () => {
      const response = await request(bridge.url)
        .get('/gemini/v1beta/models')
        .set('Authorization', `Bearer ${GOOGLE_OAUTH_TOKEN}`);
      expect(response.status).toBe(200);
      expect(credentialHeaders(bridge.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: `Bearer ${GOOGLE_OAUTH_TOKEN}`,
        'x-goog-api-key': undefined,
      });
    });

    it('should keep an x-goog-api-key the client sent', async () => {
      await request(bridge.url).get('/gemini/v1beta/models').set('x-goog-api-key', GOOGLE_KEY);
      expect(bridge.gemini.lastRequest('/v1beta/models')?.headers['x-goog-api-key']).toBe(GOOGLE_KEY);
    });
  });

  describe('/google/v1', () => {
    it('should send an OAuth access token as Authorization: Bearer, not as x-goog-api-key', async () => {
      const client = new OpenAI({
        apiKey: GOOGLE_OAUTH_TOKEN,
        baseURL: `${bridge.url}/google/v1`,
        maxRetries: 0,
        timeout: 10_000,
      });
      const models = await client.models.list();
      expect(models.data.length).toBeGreaterThan(0);
      expect(credentialHeaders(bridge.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: `Bearer ${GOOGLE_OAUTH_TOKEN}`,
        'x-goog-api-key': undefined,
      });
    });

    it('should send an API key given as Bearer as x-goog-api-key', async () => {
      const client = new OpenAI({ apiKey: GOOGLE_KEY, baseURL: `${bridge.url}/google/v1`, maxRetries: 0 });
      await client.models.list();
      expect(credentialHeaders(bridge.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: undefined,
        'x-goog-api-key': GOOGLE_KEY,
      });
    });
  });
});
