import request from 'supertest';
import type { FakeUpstream } from '@openai-proxy/testing-fakes';
import { type Stack, startStack, urlOf } from './support/stack';

/** A chain as a private peer that is not the gateway could send it: a public client behind a private hop. */
const SPOOFED_CHAIN = '6.6.6.6, 10.1.2.3';

interface ServiceCase {
  name: string;
  url: (stack: Stack) => string;
  upstream: (stack: Stack) => FakeUpstream;
  path: string;
  upstreamPath: string;
  headers: Record<string, string>;
}

const SERVICES: ServiceCase[] = [
  {
    name: 'openai-relay',
    url: (stack) => stack.relayUrl,
    upstream: (stack) => stack.openai,
    path: '/openai/v1/models',
    upstreamPath: '/v1/models',
    headers: { authorization: 'Bearer sk-test-0123456789' },
  },
  {
    name: 'claude-bridge',
    url: (stack) => urlOf(stack.bridges[0]),
    upstream: (stack) => stack.anthropic,
    path: '/anthropic/v1/models',
    upstreamPath: '/v1/models',
    headers: { 'x-api-key': 'sk-ant-api03-test-key' },
  },
  {
    name: 'bard-bridge',
    url: (stack) => urlOf(stack.bridges[1]),
    upstream: (stack) => stack.gemini,
    path: '/gemini/v1beta/models',
    upstreamPath: '/v1beta/models',
    headers: { 'x-goog-api-key': 'AIzaTestKey0123456789' },
  },
];

describe('forwarded addresses behind the gateway', () => {
  describe('with TRUST_PROXY unset', () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack();
    });

    afterAll(async () => {
      await stack.close();
    });

    it.each(SERVICES)('should make $name trust only its direct peer hop, not every private peer', async (service) => {
      const response = await request(service.url(stack))
        .get(service.path)
        .set({ ...service.headers, 'x-forwarded-for': SPOOFED_CHAIN });
      expect(response.status).toBe(200);
      const arrived = service.upstream(stack).lastRequest(service.upstreamPath);
      expect(arrived?.headers['x-forwarded-for']).toBe('10.1.2.3, 127.0.0.1');
    });

    it('should pass the gateway peer to the service as the client', async () => {
      await request(stack.gatewayUrl)
        .get('/openai/v1/models')
        .set({ authorization: 'Bearer sk-test-0123456789', 'x-forwarded-for': SPOOFED_CHAIN });
      expect(stack.openai.lastRequest('/v1/models')?.headers['x-forwarded-for']).toBe('127.0.0.1, 127.0.0.1');
    });
  });

  describe('with the Kubernetes overlays settings (gateway behind one ingress hop)', () => {
    let stack: Stack;

    beforeAll(async () => {
      stack = await startStack({ gatewayEnv: { TRUST_PROXY: '1' }, relayEnv: { TRUST_PROXY: '2' } });
    });

    afterAll(async () => {
      await stack.close();
    });

    it('should give the service the client the ingress vouched for, and nothing from further away', async () => {
      await request(stack.gatewayUrl)
        .get('/openai/v1/models')
        .set({ authorization: 'Bearer sk-test-0123456789', 'x-forwarded-for': '6.6.6.6, 203.0.113.9' });
      expect(stack.openai.lastRequest('/v1/models')?.headers['x-forwarded-for']).toBe(
        '203.0.113.9, 127.0.0.1, 127.0.0.1',
      );
    });
  });
});
