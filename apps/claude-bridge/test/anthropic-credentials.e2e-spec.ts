import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import request from 'supertest';
import { credentialHeaders } from '@openai-proxy/testing-fakes';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const API_KEY = 'sk-ant-api03-credential-test-key';
const OAUTH_TOKEN = 'sk-ant-oat01-credential-test-token';
const OAUTH_BETA = 'oauth-2025-04-20';
const MESSAGE = { model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user' as const, content: 'hi' }] };
const CHAT = { model: 'claude-sonnet-4-6', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('Anthropic credentials on the claude-bridge, passed as the client sent them', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  function anthropicSdk(options: { apiKey?: string; authToken?: string }): Anthropic {
    return new Anthropic({
      apiKey: options.apiKey ?? null,
      authToken: options.authToken ?? null,
      baseURL: `${bridge.url}/anthropic`,
      defaultHeaders: options.authToken === undefined ? {} : { 'anthropic-beta': OAUTH_BETA },
      maxRetries: 0,
      timeout: 10_000,
    });
  }

  function lastMessages(): Record<string, unknown> {
    return credentialHeaders(bridge.anthropic.lastRequest('/v1/messages'));
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
      const response = await request(bridge.url)
        .post('/anthropic/v1/messages')
        .set({ 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'tools-2024-04-04' })
        .send(MESSAGE);
      expect(response.status).toBe(200);
      expect(lastMessages()).toMatchObject({
        authorization: undefined,
        'x-api-key': API_KEY,
        'anthropic-beta': 'tools-2024-04-04',
      });
      expect(bridge.anthropic.lastRequest('/v1/messages')?.headers['anthropic-version']).toBe('2023-06-01');
    });
  });

  describe('/claude/v1', () => {
    function openAi(apiKey: string, headers: Record<string, string> = {}): OpenAI {
      return new OpenAI({
        apiKey,
        baseURL: `${bridge.url}/claude/v1`,
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
      const response = await request(bridge.url)
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
});
