import fc from 'fast-check';
import { ModelRouter, modelAllowed } from '@openai-proxy/gateway-util-team';
import { type ProviderModels, modelListAnswerSchema, routedModelId, teamModelList } from './models-route.list';

const router = new ModelRouter({
  compatibleProviders: [
    { name: 'deepseek', baseUrl: 'https://api.deepseek.com', models: ['deepseek-*'] },
    { name: 'mirror', baseUrl: 'http://127.0.0.1:9', models: ['whisper-*'] },
  ],
  models: [{ name: 'fast', provider: 'openai', model: 'gpt-4o-mini', fallbacks: [] }],
});

const upstream: ProviderModels[] = [
  {
    provider: 'openai',
    models: [{ id: 'gpt-4o', created: 1, owned_by: 'openai' }, { id: 'whisper-1' }, { id: 'davinci-002' }],
  },
  { provider: 'anthropic', models: [{ id: 'claude-sonnet-4-6', owned_by: 'anthropic' }] },
  { provider: 'gemini', models: [{ id: 'gemini-2.5-flash' }, { id: 'text-embedding-004' }] },
  { provider: 'deepseek', models: [{ id: 'deepseek-chat' }, { id: 'gpt-4o' }] },
  { provider: 'mirror', models: [{ id: 'whisper-1' }] },
];

describe(routedModelId.name, () => {
  it.each([
    ['openai', 'gpt-4o', 'gpt-4o'],
    ['openai', 'davinci-002', 'openai/davinci-002'],
    ['openai', 'whisper-1', 'openai/whisper-1'],
    ['mirror', 'whisper-1', 'whisper-1'],
    ['deepseek', 'deepseek-chat', 'deepseek-chat'],
    ['deepseek', 'gpt-4o', 'deepseek/gpt-4o'],
    ['gemini', 'text-embedding-004', 'gemini/text-embedding-004'],
    ['openai', 'fast', 'openai/fast'],
  ])('should list %s’s %s as %s', (provider, id, listed) => {
    expect(routedModelId(router, provider, id)).toBe(listed);
  });
});

describe(teamModelList.name, () => {
  it('should list the aliases, then each provider’s models under the id that routes to them', () => {
    expect(teamModelList(router, [], upstream)).toEqual({
      object: 'list',
      data: [
        { id: 'fast', object: 'model', created: 0, owned_by: 'openai' },
        { id: 'gpt-4o', object: 'model', created: 1, owned_by: 'openai' },
        { id: 'openai/whisper-1', object: 'model', created: 0, owned_by: 'openai' },
        { id: 'openai/davinci-002', object: 'model', created: 0, owned_by: 'openai' },
        { id: 'claude-sonnet-4-6', object: 'model', created: 0, owned_by: 'anthropic' },
        { id: 'gemini-2.5-flash', object: 'model', created: 0, owned_by: 'gemini' },
        { id: 'gemini/text-embedding-004', object: 'model', created: 0, owned_by: 'gemini' },
        { id: 'deepseek-chat', object: 'model', created: 0, owned_by: 'deepseek' },
        { id: 'deepseek/gpt-4o', object: 'model', created: 0, owned_by: 'deepseek' },
        { id: 'whisper-1', object: 'model', created: 0, owned_by: 'mirror' },
      ],
    });
  });

  it('should keep what the key’s patterns allow by the listed id or the model it is sent upstream as', () => {
    const ids = teamModelList(router, ['gpt-*'], upstream).data.map((model) => model.id);
    expect(ids).toEqual(['fast', 'gpt-4o', 'deepseek/gpt-4o']);
    expect(teamModelList(router, ['claude-sonnet-4-6'], upstream).data.map((model) => model.id)).toEqual([
      'claude-sonnet-4-6',
    ]);
  });

  it('should list each id once, every one allowed and routed, in OpenAI’s list shape', () => {
    const id = fc.constantFrom(
      'gpt-4o',
      'gpt-4o-mini',
      'whisper-1',
      'deepseek-chat',
      'claude-haiku-4-5',
      'llama3',
      'fast',
    );
    const lists = fc.array(
      fc.record({
        provider: fc.constantFrom('openai', 'anthropic', 'gemini', 'deepseek', 'mirror'),
        models: fc.array(fc.record({ id }, { requiredKeys: ['id'] }), { maxLength: 6 }),
      }),
      { maxLength: 5 },
    );
    const patterns = fc.array(fc.constantFrom('gpt-*', 'whisper-1', 'deepseek-*', 'claude-*', 'llama3'), {
      maxLength: 3,
    });
    fc.assert(
      fc.property(lists, patterns, (given, allowed) => {
        const list = teamModelList(router, allowed, given);
        expect(modelListAnswerSchema.parse(list)).toEqual(list);
        const ids = list.data.map((model) => model.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const listed of ids) {
          const route = router.resolve(listed);
          expect(route).toBeDefined();
          expect(modelAllowed(allowed, listed) || modelAllowed(allowed, route?.upstreamModel ?? '')).toBe(true);
        }
        for (const { provider, models } of given) {
          for (const model of models) {
            const listed = routedModelId(router, provider, model.id);
            const route = router.resolve(listed);
            const permitted = modelAllowed(allowed, listed) || modelAllowed(allowed, route?.upstreamModel ?? '');
            expect(ids.includes(listed)).toBe(permitted);
          }
        }
      }),
    );
  });
});
