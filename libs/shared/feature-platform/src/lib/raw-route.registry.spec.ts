import { type RawRoute, RawRouteRegistry, underPrefix } from './raw-route.registry';

function relayRoute(prefix: string): RawRoute {
  return {
    label: `${prefix}/*path`,
    matches: (pathname) => underPrefix(pathname, prefix),
    handle: () => Promise.resolve(),
  };
}

describe(RawRouteRegistry.name, () => {
  it('should leave a reserved path to the application with or without a trailing slash and in any case (the slash variant went to the relay)', () => {
    const registry = new RawRouteRegistry();
    const relay = relayRoute('/openai');
    registry.register(relay);
    registry.reserveForApplication('/openai/billing/credit_grants');
    for (const pathname of [
      '/openai/billing/credit_grants',
      '/openai/billing/credit_grants/',
      '/openai/Billing/Credit_Grants',
    ]) {
      expect(registry.find(pathname)).toBeUndefined();
    }
    for (const pathname of [
      '/openai/billing/credit_grants//',
      '/openai/billing/credit_grants/x',
      '/openai/billing/credit_grantsx',
      '/openai/billing',
    ]) {
      expect(registry.find(pathname)).toBe(relay);
    }
  });

  it('should give a path to the first raw route that matches it', () => {
    const registry = new RawRouteRegistry();
    const openai = relayRoute('/openai');
    registry.register(openai);
    registry.register(relayRoute('/openai/v1'));
    expect(registry.find('/openai/v1/models')).toBe(openai);
    expect(registry.find('/openaix')).toBeUndefined();
  });
});
