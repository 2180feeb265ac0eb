import { type RawRoute, RawRouteRegistry, underPrefix } from '@openai-proxy/feature-platform';
import { closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import fc from 'fast-check';
import { createServer } from 'node:http';
import { type JsonRoute, compileRoutePath, registerJsonRoutes } from './provider-routes';

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

describe('registerJsonRoutes with bodies', () => {
  const patch: JsonRoute = {
    method: 'PATCH',
    path: '/admin/things/:id',
    summary: 'Change a thing.',
    tag: 'admin',
    requestSchema: { type: 'object', properties: { name: { type: 'string' } } },
    responseSchema: { type: 'object' },
    security: 'admin-token',
    handle: (context) => Promise.resolve({ status: 200, body: { id: context.params['id'], got: context.body } }),
  };

  it('should read a PATCH body as JSON and hand it to the route with its path parameters', async () => {
    const registry = new RawRouteRegistry();
    registerJsonRoutes(registry, [patch]);
    const server = createServer((request, response) => {
      void registry.find('/admin/things/t1')?.handle(request, response);
    });
    const address = await listenOnLoopback(server);
    try {
      const answer = await fetch(`${address.url}/admin/things/t1`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'new' }),
      });
      expect(answer.status).toBe(200);
      await expect(answer.json()).resolves.toEqual({ id: 't1', got: { name: 'new' } });
    } finally {
      await closeServer(server);
    }
  });

  it("should list a route's schemas and security in /docs, and no field it does not document", () => {
    const registry = new RawRouteRegistry();
    registerJsonRoutes(registry, [patch]);
    expect(registry.documented()).toEqual([
      {
        method: 'PATCH',
        path: '/admin/things/:id',
        summary: 'Change a thing.',
        tag: 'admin',
        requestSchema: patch.requestSchema,
        responseSchema: patch.responseSchema,
        security: 'admin-token',
      },
    ]);
    expect(Object.keys(registry.documented()[0] ?? {})).not.toContain('handle');
  });
});

describe(compileRoutePath.name, () => {
  it.each([
    ['/openai/billing/credit_grants', '/openai/billing/credit_grants', {}],
    ['/openai/billing/credit_grants', '/OpenAI/Billing/Credit_Grants/', {}],
    ['/openai/billing/credit_grants', '/openai/billing/credit_grants//', undefined],
    ['/openai/billing/credit_grants', '/openai/billing/credit_grantsx', undefined],
    ['/openai/billing/credit_grants', '/openai/v1/chat/completions', undefined],
    ['/claude/:org/v1/chat/completions', '/claude/o-1/v1/chat/completions', { org: 'o-1' }],
    ['/claude/:org/v1/chat/completions', '/claude/a%20b/v1/chat/completions/', { org: 'a b' }],
    ['/claude/:org/v1/chat/completions', '/claude//v1/chat/completions', undefined],
    ['/claude/:org/v1/chat/completions', '/claude/%E0%A4%A/v1/chat/completions', undefined],
    ['/claude/:org/v1/chat/completions', '/claude/o/x/v1/chat/completions', undefined],
  ])('should match %s against %s as Express did (any case, one trailing slash)', (pattern, pathname, expected) => {
    expect(compileRoutePath(pattern)(pathname)).toEqual(expected);
  });

  it('should agree with the segment-by-segment rule for any path when the pattern has no parameters', () => {
    const match = compileRoutePath('/google/bard');
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (rest) => {
        for (const pathname of [`/google/bard${rest}`, `/${rest}`, `/GOOGLE/BARD${rest}`]) {
          expect(match(pathname)).toEqual(matchSegmentsReference('/google/bard', pathname));
        }
      }),
    );
  });
});

/** The matching rule written the slow way: split both and compare segment by segment, ignoring case. */
function matchSegmentsReference(pattern: string, pathname: string): Record<string, string> | undefined {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const expected = pattern.toLowerCase().split('/');
  const actual = trimmed.toLowerCase().split('/');
  return expected.length === actual.length && expected.every((segment, index) => segment === actual[index])
    ? {}
    : undefined;
}
