import { RawRouteRegistry } from '@openai-proxy/feature-platform';
import { metricSample, openApiDocument } from '@openai-proxy/testing-fakes';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const SESSION = 'sk-ant-sid01-raw-routes';

/** Every claude.ai route: its declared path, a path it serves, and its methods. */
const ROUTES = [
  { declared: '/claude/:org/v1/chat/completions', served: '/claude/o/v1/chat/completions', methods: ['post'] },
  {
    declared: '/claude/:org/:conversation/v1/chat/completions',
    served: '/claude/o/c/v1/chat/completions',
    methods: ['post'],
  },
  {
    declared: '/claude/organizations/:org/chat_conversations',
    served: '/claude/organizations/o/chat_conversations',
    methods: ['get', 'post', 'delete'],
  },
  {
    declared: '/claude/organizations/:org/chat_conversations/:conversation',
    served: '/claude/organizations/o/chat_conversations/c',
    methods: ['get', 'delete'],
  },
  { declared: '/claude/append_message', served: '/claude/append_message', methods: ['post'] },
  { declared: '/claude/retry_message', served: '/claude/retry_message', methods: ['post'] },
];

const openApiPath = (path: string): string => path.replace(/:([a-z]+)/g, '{$1}');

describe('ClaudeWebRoutes', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  it('should list every claude.ai route in /docs with its summary when the bridge serves them as raw routes', async () => {
    const docs = await openApiDocument(bridge.url);
    for (const route of ROUTES) {
      for (const method of route.methods) {
        expect(docs.paths[openApiPath(route.declared)]?.[method]).toMatchObject({
          summary: expect.any(String),
          tags: ['claude.ai'],
        });
      }
    }
  });

  it('should serve every claude.ai path by a raw route labelled with its declared path, not by a Nest route', () => {
    const registry = bridge.app.get(RawRouteRegistry);
    expect(ROUTES.map((route) => registry.find(route.served)?.label)).toEqual(ROUTES.map((route) => route.declared));
  });

  it('should label the route metric with the declared path when a conversation list is served', async () => {
    const series =
      'http_requests_total{method="GET",route="/claude/organizations/:org/chat_conversations",status="200"}';
    const before = await metricSample(bridge.url, series);
    const listed = await fetch(`${bridge.url}/claude/organizations/o/chat_conversations`, {
      headers: { cookie: `sessionKey=${SESSION}` },
      signal: AbortSignal.timeout(5_000),
    });
    expect(listed.status).toBe(200);
    await listed.arrayBuffer();
    expect(await metricSample(bridge.url, series)).toBe(before + 1);
  });

  it('should answer 404 Unknown route when the method is not declared for a claude.ai path', async () => {
    const response = await fetch(`${bridge.url}/claude/append_message`, {
      headers: { cookie: `sessionKey=${SESSION}` },
      signal: AbortSignal.timeout(5_000),
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
