import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import request from 'supertest';
import type { RecordedRequest } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';

const API_KEY = 'sk-ant-api03-credential-test-key';
const OAUTH_TOKEN = 'sk-ant-oat01-credential-test-token';
const OAUTH_BETA = 'oauth-2025-04-20';
const GOOGLE_KEY = 'AIzaCredentialTestKey0123';
const GOOGLE_OAUTH_TOKEN = 'ya29.a0CredentialTestToken';
const MESSAGE = { model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: 'hi' }] };
const CHAT = { model: 'claude-sonnet-4-5', messages: [{ role: 'user' as const, content: 'hi' }] };

function credentialHeaders(arrived: RecordedRequest | undefined): Record<string, unknown> {
  return {
    authorization: arrived?.headers.authorization,
    'x-api-key': arrived?.headers['x-api-key'],
    'x-goog-api-key': arrived?.headers['x-goog-api-key'],
    'anthropic-beta': arrived?.headers['anthropic-beta'],
  };
}

describe('provider credentials, passed as the client sent them', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  function anthropicSdk(options: { apiKey?: string; authToken?: string }): Anthropic {
    return new Anthropic({
      apiKey: options.apiKey ?? null,
      authToken: options.authToken ?? null,
      baseURL: `${stack.gatewayUrl}/anthropic`,
      defaultHeaders: options.authToken === undefined ? {} : { 'anthropic-beta': OAUTH_BETA },
      maxRetries: 0,
      timeout: 10_000,
    });
  }

  function lastMessages(): Record<string, unknown> {
    return credentialHeaders(stack.anthropic.lastRequest('/v1/messages'));
  }

  describe('/anthropic/**', () => {
    it('should relay an OAuth token (Claude Code) as Authorization: Bearer when it comes with the oauth beta', async () => {
      const message = await anthropicSdk({ authToken: OAUTH_TOKEN }).messages.create(MESSAGE);
      expect(message.type).toBe('message');
      expect(lastMessages()).toEqual({
        authorization: `Bearer ${OAUTH_TOKEN}`,
        'x-api-key': undefined,
        'x-goog-api-key': undefined,
        'anthropic-beta': OAUTH_BETA,
      });
    });

    it('should relay an API key sent as Authorization: Bearer unchanged', async () => {
      await anthropicSdk({ apiKey: API_KEY }).messages.create(MESSAGE);
      expect(lastMessages()).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'x-api-key': undefined });
    });

    it('should relay x-api-key, anthropic-version and anthropic-beta unchanged', async () => {
      const response = await request(stack.gatewayUrl)
        .post('/anthropic/v1/messages')
        .set({ 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'tools-2024-04-04' })
        .send(MESSAGE);
      expect(response.status).toBe(200);
      expect(lastMessages()).toMatchObject({
        authorization: undefined,
        'x-api-key': API_KEY,
        'anthropic-beta': 'tools-2024-04-04',
      });
      expect(stack.anthropic.lastRequest('/v1/messages')?.headers['anthropic-version']).toBe('2023-06-01');
    });
  });

  describe('/claude/v1', () => {
    function openAi(apiKey: string, headers: Record<string, string> = {}): OpenAI {
      return new OpenAI({
        apiKey,
        baseURL: `${stack.gatewayUrl}/claude/v1`,
        defaultHeaders: headers,
        maxRetries: 0,
        timeout: 10_000,
      });
    }

    it('should send an API key given as Bearer as x-api-key', async () => {
      await openAi(API_KEY).chat.completions.create(CHAT);
      expect(lastMessages()).toMatchObject({ authorization: undefined, 'x-api-key': API_KEY });
    });

    it('should send an API key given as x-api-key as x-api-key', async () => {
      const response = await request(stack.gatewayUrl)
        .post('/claude/v1/chat/completions')
        .set('x-api-key', API_KEY)
        .send(CHAT);
      expect(response.status).toBe(200);
      expect(lastMessages()).toMatchObject({ authorization: undefined, 'x-api-key': API_KEY });
    });

    it('should send an OAuth token as Authorization: Bearer, with the client anthropic-beta', async () => {
      const completion = await openAi(OAUTH_TOKEN, { 'anthropic-beta': OAUTH_BETA }).chat.completions.create(CHAT);
      expect(completion.object).toBe('chat.completion');
      expect(lastMessages()).toEqual({
        authorization: `Bearer ${OAUTH_TOKEN}`,
        'x-api-key': undefined,
        'x-goog-api-key': undefined,
        'anthropic-beta': OAUTH_BETA,
      });
    });
  });

  describe('/gemini/**', () => {
    it('should send an API key given as Authorization: Bearer as x-goog-api-key, and no Authorization', async () => {
      const response = await request(stack.gatewayUrl)
        .get('/gemini/v1beta/models')
        .set('Authorization', `Bearer ${GOOGLE_KEY}`);
      expect(response.status).toBe(200);
      expect(credentialHeaders(stack.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: undefined,
        'x-goog-api-key': GOOGLE_KEY,
      });
    });

    it('should relay an OAuth access token as Authorization: Bearer', async () => {
      const response = await request(stack.gatewayUrl)
        .get('/gemini/v1beta/models')
        .set('Authorization', `Bearer ${GOOGLE_OAUTH_TOKEN}`);
      expect(response.status).toBe(200);
      expect(credentialHeaders(stack.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: `Bearer ${GOOGLE_OAUTH_TOKEN}`,
        'x-goog-api-key': undefined,
      });
    });

    it('should keep an x-goog-api-key the client sent', async () => {
      await request(stack.gatewayUrl).get('/gemini/v1beta/models').set('x-goog-api-key', GOOGLE_KEY);
      expect(stack.gemini.lastRequest('/v1beta/models')?.headers['x-goog-api-key']).toBe(GOOGLE_KEY);
    });
  });

  describe('/google/v1', () => {
    it('should send an OAuth access token as Authorization: Bearer, not as x-goog-api-key', async () => {
      const client = new OpenAI({
        apiKey: GOOGLE_OAUTH_TOKEN,
        baseURL: `${stack.gatewayUrl}/google/v1`,
        maxRetries: 0,
        timeout: 10_000,
      });
      const models = await client.models.list();
      expect(models.data.length).toBeGreaterThan(0);
      expect(credentialHeaders(stack.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: `Bearer ${GOOGLE_OAUTH_TOKEN}`,
        'x-goog-api-key': undefined,
      });
    });

    it('should send an API key given as Bearer as x-goog-api-key', async () => {
      const client = new OpenAI({ apiKey: GOOGLE_KEY, baseURL: `${stack.gatewayUrl}/google/v1`, maxRetries: 0 });
      await client.models.list();
      expect(credentialHeaders(stack.gemini.lastRequest('/v1beta/models'))).toMatchObject({
        authorization: undefined,
        'x-goog-api-key': GOOGLE_KEY,
      });
    });
  });
});
