import { type RawRoute, RawRouteRegistry, underPrefix } from '@openai-proxy/feature-platform';
import { type JsonRoute, registerJsonRoutes } from './provider-routes';

const BILLING = '/openai/billing/credit_grants';

function relayRoute(prefix: string): RawRoute {
  return {
    label: `${prefix}/*path`,
    matches: (pathname) => underPrefix(pathname, prefix),
    handle: () => Promise.resolve(),
  };
}

const billing: JsonRoute = {
  method: 'GET',
  path: BILLING,
  summary: 'The billing query.',
  tag: 'openai',
  handle: () => Promise.resolve({ status: 200, body: {} }),
};

describe(registerJsonRoutes.name, () => {
  // Regression: with the route's path left to the Nest application, its trailing-slash variant went to the relay.
  it('should give a declared path to its route with or without a trailing slash and in any case, ahead of the relay', () => {
    const registry = new RawRouteRegistry();
    registerJsonRoutes(registry, [billing]);
    const relay = relayRoute('/openai');
    registry.register(relay);
    for (const pathname of [BILLING, `${BILLING}/`, '/openai/Billing/Credit_Grants']) {
      expect(registry.find(pathname)?.label).toBe(BILLING);
    }
    for (const pathname of [`${BILLING}//`, `${BILLING}/x`, `${BILLING}x`, '/openai/billing']) {
      expect(registry.find(pathname)).toBe(relay);
    }
  });

  it('should list the declared route in /docs when it is registered', () => {
    const registry = new RawRouteRegistry();
    registerJsonRoutes(registry, [billing]);
    expect(registry.documented()).toEqual([
      { method: 'GET', path: BILLING, summary: 'The billing query.', tag: 'openai' },
    ]);
  });
});
