import { type RawRoute, RawRouteRegistry, underPrefix } from './raw-route.registry';

function relayRoute(prefix: string): RawRoute {
  return {
    label: `${prefix}/*path`,
    matches: (pathname) => underPrefix(pathname, prefix),
    handle: () => Promise.resolve(),
  };
}

describe(RawRouteRegistry.name, () => {
  it('should give a path to the first raw route that matches it', () => {
    const registry = new RawRouteRegistry();
    const openai = relayRoute('/openai');
    registry.register(openai);
    registry.register(relayRoute('/openai/v1'));
    expect(registry.find('/openai/v1/models')).toBe(openai);
    expect(registry.find('/openaix')).toBeUndefined();
  });
});
