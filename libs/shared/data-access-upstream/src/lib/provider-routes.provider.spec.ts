import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Test } from '@nestjs/testing';
import { RawRouteRegistry } from '@openai-proxy/feature-platform';
import { type ProviderAdapter, type ProviderRoute, noInput } from '@openai-proxy/util-provider-contract';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { ProviderPipeline } from './provider-pipeline.service';
import { providerRoutes } from './provider-routes.provider';

interface ExampleSettings {
  apiBase: string;
}

const EXAMPLE_SETTINGS = Symbol('EXAMPLE_SETTINGS');

const ROUTES: readonly ProviderRoute<'models'>[] = [
  { method: 'GET', path: '/example/v1/models', operation: 'models', summary: 'Example models.', tag: 'example' },
];

function exampleAdapter(settings: ExampleSettings): ProviderAdapter<string, 'models'> {
  return {
    name: 'example',
    baseUrl: settings.apiBase,
    credentials: () => 'key',
    translateError: (status) => new GatewayException(ErrorCode.UpstreamServerError, `answered ${status}`),
    operations: {
      models: {
        input: noInput,
        prepare: () => ({
          answer: 'whole',
          request: { method: 'GET', path: '/models', headers: {} },
          read: { read: () => ({ problem: 'not JSON' }) },
        }),
      },
    },
  };
}

function getRequest(url: string): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  request.method = 'GET';
  request.url = url;
  return request;
}

describe(providerRoutes.name, () => {
  it('should serve the declared routes with the adapter made from the settings when the module initialises', async () => {
    const serve = jest.fn().mockResolvedValue({ usage: undefined });
    const targetOf = jest.fn();
    const module = await Test.createTestingModule({
      providers: [
        RawRouteRegistry,
        { provide: ProviderPipeline, useValue: { serve, targetOf } },
        { provide: EXAMPLE_SETTINGS, useValue: { apiBase: 'http://127.0.0.1:9' } },
        providerRoutes({ settings: EXAMPLE_SETTINGS, adapter: exampleAdapter, routes: ROUTES }),
      ],
    }).compile();
    const registry = module.get(RawRouteRegistry);
    expect(registry.find('/example/v1/models')).toBeUndefined();

    await module.init();
    // The upstream is resolved at once (its breaker shows in /readyz before any call).
    expect(targetOf).toHaveBeenCalledWith(expect.objectContaining({ name: 'example', baseUrl: 'http://127.0.0.1:9' }));
    const route = registry.find('/example/v1/models');
    expect(route?.label).toBe('/example/v1/models');
    expect(registry.documented()).toEqual([
      { method: 'GET', path: '/example/v1/models', summary: 'Example models.', tag: 'example' },
    ]);
    const request = getRequest('/example/v1/models');
    const response = new ServerResponse(request);
    await route?.handle(request, response);
    expect(serve).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'example', baseUrl: 'http://127.0.0.1:9' }),
      'models',
      request,
      response,
      {},
    );
    await module.close();
  });
});
