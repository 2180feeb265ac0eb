import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { geminiCredentialHeaders, moveBearerApiKey } from './gemini-credentials';

const API_KEY = 'AIzaSyTestKey';
const OAUTH_TOKEN = 'ya29.test-access-token';

function requestWith(headers: IncomingHttpHeaders): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.headers = headers;
  return request;
}

describe('moveBearerApiKey', () => {
  it('should move an API key sent as Authorization Bearer to x-goog-api-key', () => {
    const request = requestWith({ authorization: `Bearer ${API_KEY}`, accept: '*/*' });
    moveBearerApiKey(request);
    expect(request.headers).toEqual({ 'x-goog-api-key': API_KEY, accept: '*/*' });
  });

  it('should leave an OAuth access token as Authorization Bearer', () => {
    const request = requestWith({ authorization: `Bearer ${OAUTH_TOKEN}` });
    moveBearerApiKey(request);
    expect(request.headers).toEqual({ authorization: `Bearer ${OAUTH_TOKEN}` });
  });

  it('should leave both headers as sent when the request already has x-goog-api-key', () => {
    const request = requestWith({ 'x-goog-api-key': 'AIzaOther', authorization: `Bearer ${API_KEY}` });
    moveBearerApiKey(request);
    expect(request.headers).toEqual({ 'x-goog-api-key': 'AIzaOther', authorization: `Bearer ${API_KEY}` });
  });
});

describe('geminiCredentialHeaders', () => {
  it.each<[string, IncomingHttpHeaders, Record<string, string>]>([
    [
      'x-goog-api-key as sent',
      { 'x-goog-api-key': API_KEY, authorization: 'Bearer other' },
      { 'x-goog-api-key': API_KEY },
    ],
    ['a Bearer API key as x-goog-api-key', { authorization: `Bearer ${API_KEY}` }, { 'x-goog-api-key': API_KEY }],
    [
      'a Bearer OAuth token as Authorization',
      { authorization: `Bearer ${OAUTH_TOKEN}` },
      { authorization: `Bearer ${OAUTH_TOKEN}` },
    ],
  ])('should send %s', (_label, headers, expected) => {
    expect(geminiCredentialHeaders(requestWith(headers))).toEqual(expected);
  });

  it('should answer 401 missing_credentials when there is no key, never asking for it in the URL', () => {
    let thrown: unknown;
    try {
      geminiCredentialHeaders(requestWith({ authorization: 'Basic abc' }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayException);
    expect((thrown as GatewayException).code).toBe(ErrorCode.MissingCredentials);
    expect((thrown as GatewayException).message).toContain('x-goog-api-key');
    expect((thrown as GatewayException).message).not.toContain('?key=');
  });
});
