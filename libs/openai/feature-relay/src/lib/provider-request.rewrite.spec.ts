import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { moveBearerKey, providerRequestRewrite, withConfiguredQuery } from './provider-request.rewrite';

function requestWith(headers: IncomingHttpHeaders): IncomingMessage {
  return { headers } as IncomingMessage;
}

describe('moveBearerKey', () => {
  it('should send the bearer token in the key header and drop Authorization when the client sent a bearer', () => {
    const request = requestWith({ authorization: 'Bearer azure-key-1', accept: 'application/json' });
    moveBearerKey(request, 'api-key');
    expect(request.headers).toEqual({ 'api-key': 'azure-key-1', accept: 'application/json' });
  });

  it('should pass the headers through as sent when the client already sends the key header', () => {
    const request = requestWith({ 'api-key': 'azure-key-2', authorization: 'Bearer other' });
    moveBearerKey(request, 'api-key');
    expect(request.headers).toEqual({ 'api-key': 'azure-key-2', authorization: 'Bearer other' });
  });

  it('should leave the headers alone when the client sent no bearer token', () => {
    const request = requestWith({ authorization: 'Basic dXNlcjpwYXNz' });
    moveBearerKey(request, 'api-key');
    expect(request.headers).toEqual({ authorization: 'Basic dXNlcjpwYXNz' });
  });
});

describe('withConfiguredQuery', () => {
  const names = new Set(['api-version']);
  const encoded = 'api-version=2024-10-21';

  it.each([
    ['/deployments/d/chat/completions', '/deployments/d/chat/completions?api-version=2024-10-21'],
    ['/models?', '/models?api-version=2024-10-21'],
    ['/files?purpose=batch&limit=2', '/files?purpose=batch&limit=2&api-version=2024-10-21'],
    ['/files?api-version=2023-05-15&limit=2', '/files?limit=2&api-version=2024-10-21'],
    ['/files?api%2Dversion=old', '/files?api-version=2024-10-21'],
    ['/files?q=a%20b+c&bad=%E0%A4%A', '/files?q=a%20b+c&bad=%E0%A4%A&api-version=2024-10-21'],
    ['', '?api-version=2024-10-21'],
  ])('should set the configured value and keep the rest as sent when the path is %s', (path, expected) => {
    expect(withConfiguredQuery(path, names, encoded)).toBe(expected);
  });
});

describe('providerRequestRewrite', () => {
  it('should give no rewrite when the provider has neither a key header nor a query', () => {
    expect(providerRequestRewrite({ name: 'deepseek', baseUrl: 'https://api.deepseek.com' })).toBeUndefined();
    expect(providerRequestRewrite({ name: 'd', baseUrl: 'https://d.example', query: {} })).toBeUndefined();
  });

  it('should move the key and set the encoded query when the provider has both', () => {
    const rewrite = providerRequestRewrite({
      name: 'azure',
      baseUrl: 'https://example.openai.azure.com/openai',
      keyHeader: 'api-key',
      query: { 'api-version': '2024-10-21', 'a b': 'c&d' },
    });
    const request = requestWith({ authorization: 'Bearer azure-key' });
    expect(rewrite?.(request, '/deployments/d/chat/completions')).toBe(
      '/deployments/d/chat/completions?api-version=2024-10-21&a%20b=c%26d',
    );
    expect(request.headers).toEqual({ 'api-key': 'azure-key' });
  });

  it('should only set the query when the provider has no key header', () => {
    const rewrite = providerRequestRewrite({ name: 'q', baseUrl: 'https://q.example', query: { v: '1' } });
    const request = requestWith({ authorization: 'Bearer k' });
    expect(rewrite?.(request, '/x')).toBe('/x?v=1');
    expect(request.headers).toEqual({ authorization: 'Bearer k' });
  });
});
