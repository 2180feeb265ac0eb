import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import {
  DEFAULT_ANTHROPIC_VERSION,
  anthropicHeaders,
  readAnthropicKey,
  requireAnthropicKey,
} from './anthropic-credentials';

const API_KEY = 'sk-ant-api03-test-key';
const OAUTH_TOKEN = 'sk-ant-oat01-test-token';

function requestWith(headers: IncomingHttpHeaders): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.headers = headers;
  return request;
}

describe('readAnthropicKey', () => {
  it('should read x-api-key first, then an Authorization Bearer token', () => {
    expect(readAnthropicKey(requestWith({ 'x-api-key': API_KEY, authorization: `Bearer ${OAUTH_TOKEN}` }))).toBe(
      API_KEY,
    );
    expect(readAnthropicKey(requestWith({ authorization: `Bearer ${OAUTH_TOKEN}` }))).toBe(OAUTH_TOKEN);
  });

  it('should answer undefined when neither header carries a key', () => {
    expect(readAnthropicKey(requestWith({ 'x-api-key': '', authorization: 'Basic abc' }))).toBeUndefined();
  });
});

describe('requireAnthropicKey', () => {
  it('should answer 401 missing_credentials saying where the key goes when there is none', () => {
    let thrown: unknown;
    try {
      requireAnthropicKey(requestWith({}));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayException);
    expect((thrown as GatewayException).code).toBe(ErrorCode.MissingCredentials);
    expect((thrown as GatewayException).status).toBe(401);
    expect((thrown as GatewayException).message).toContain('x-api-key');
  });
});

describe('anthropicHeaders', () => {
  it('should send an API key as x-api-key with the default version and nothing else the client sent', () => {
    const request = requestWith({ authorization: `Bearer ${API_KEY}`, cookie: 'a=b', 'x-forwarded-for': '1.2.3.4' });
    expect(anthropicHeaders(request, API_KEY, 'text/event-stream')).toEqual({
      'x-api-key': API_KEY,
      'anthropic-version': DEFAULT_ANTHROPIC_VERSION,
      accept: 'text/event-stream',
      'accept-encoding': 'identity',
    });
  });

  it('should send an OAuth token as Authorization Bearer, with the client version and beta', () => {
    const request = requestWith({ 'anthropic-version': '2024-01-01', 'anthropic-beta': 'oauth-2025-04-20' });
    expect(anthropicHeaders(request, OAUTH_TOKEN, 'application/json')).toEqual({
      authorization: `Bearer ${OAUTH_TOKEN}`,
      'anthropic-version': '2024-01-01',
      'anthropic-beta': 'oauth-2025-04-20',
      accept: 'application/json',
      'accept-encoding': 'identity',
    });
  });
});
