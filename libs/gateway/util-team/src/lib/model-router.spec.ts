import fc from 'fast-check';
import type { ModelRoute, OpenAiCompatibleProvider } from '@openai-proxy/util-config';
import { ModelRouter, routeTableProblems } from './model-router';

const deepseek: OpenAiCompatibleProvider = {
  name: 'deepseek',
  baseUrl: 'https://api.deepseek.com',
  models: ['deepseek-*'],
};
const siliconflow: OpenAiCompatibleProvider = { name: 'siliconflow', baseUrl: 'https://api.siliconflow.cn' };
const fast: ModelRoute = { name: 'fast', provider: 'gemini', model: 'gemini-2.5-flash', fallbacks: ['gpt-4o-mini'] };

function router(models: readonly ModelRoute[] = [fast], providers = [deepseek, siliconflow]): ModelRouter {
  return new ModelRouter({ compatibleProviders: providers, models });
}

describe(ModelRouter.name, () => {
  it('should send an alias to its provider and model, with its fallbacks', () => {
    expect(router().resolve('fast')).toEqual({
      requested: 'fast',
      provider: 'gemini',
      upstreamModel: 'gemini-2.5-flash',
      fallbacks: ['gpt-4o-mini'],
    });
  });

  it('should send <name>/<model> to that provider as <model>', () => {
    expect(router().resolve('deepseek/deepseek-chat')).toEqual({
      requested: 'deepseek/deepseek-chat',
      provider: 'deepseek',
      upstreamModel: 'deepseek-chat',
      fallbacks: [],
    });
    expect(router().resolve('siliconflow/Qwen/Qwen2.5-72B-Instruct')).toMatchObject({
      provider: 'siliconflow',
      upstreamModel: 'Qwen/Qwen2.5-72B-Instruct',
    });
    expect(router().resolve('gemini/text-embedding-004')).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'text-embedding-004',
    });
    expect(router().resolve('anthropic/claude-sonnet-4-6')?.provider).toBe('anthropic');
    expect(router().resolve('openai/gpt-4o')?.upstreamModel).toBe('gpt-4o');
  });

  it('should not take the part before a slash for a provider it does not know', () => {
    expect(router().resolve('Qwen/Qwen2.5-72B-Instruct')).toBeUndefined();
    expect(router().resolve('deepseek/')).toBeUndefined();
    expect(router().resolve('/gpt-4o')).toBeUndefined();
  });

  it("should route by a compatible provider's declared patterns", () => {
    expect(router().resolve('deepseek-reasoner')).toEqual({
      requested: 'deepseek-reasoner',
      provider: 'deepseek',
      upstreamModel: 'deepseek-reasoner',
      fallbacks: [],
    });
  });

  it('should route every built-in family to its provider', () => {
    const expected: Record<string, string> = {
      'gpt-4o-mini': 'openai',
      o1: 'openai',
      'o3-mini': 'openai',
      'o4-mini': 'openai',
      'chatgpt-4o-latest': 'openai',
      'text-embedding-3-small': 'openai',
      'dall-e-3': 'openai',
      'whisper-1': 'openai',
      'tts-1': 'openai',
      'omni-moderation-latest': 'openai',
      'claude-sonnet-4-5-20250929': 'anthropic',
      'gemini-2.5-flash': 'gemini',
    };
    for (const [model, provider] of Object.entries(expected)) {
      expect(router([], []).resolve(model)).toEqual({
        requested: model,
        provider,
        upstreamModel: model,
        fallbacks: [],
      });
    }
  });

  it('should know no route for other models, an empty model or a model that is not text', () => {
    for (const model of ['llama3.1:8b', 'text-davinci', 'gpt', '', undefined, null, 42, ['gpt-4o'], { model: 'x' }]) {
      expect(router().resolve(model)).toBeUndefined();
    }
  });

  it('should let the config file override the built-ins: an alias first, then declared patterns', () => {
    const ownGpt: ModelRoute = { name: 'gpt-4o', provider: 'azure', model: 'my-gpt-4o-deployment', fallbacks: [] };
    const azure: OpenAiCompatibleProvider = { name: 'azure', baseUrl: 'https://x.example', models: ['gpt-4.1*'] };
    const configured = router([ownGpt], [azure]);
    expect(configured.resolve('gpt-4o')).toMatchObject({ provider: 'azure', upstreamModel: 'my-gpt-4o-deployment' });
    expect(configured.resolve('gpt-4.1-mini')).toMatchObject({ provider: 'azure', upstreamModel: 'gpt-4.1-mini' });
    expect(configured.resolve('gpt-4o-mini')?.provider).toBe('openai');
  });

  it('should take an alias named like <name>/<model> before the provider prefix', () => {
    const pinned: ModelRoute = { name: 'deepseek/chat', provider: 'openai', model: 'gpt-4o', fallbacks: [] };
    expect(router([pinned]).resolve('deepseek/chat')).toMatchObject({ provider: 'openai', upstreamModel: 'gpt-4o' });
  });

  it('should not treat inherited object names as aliases', () => {
    expect(router().resolve('constructor')).toBeUndefined();
    expect(router().resolve('__proto__')).toBeUndefined();
  });

  it('should list the aliases and the providers it can route to', () => {
    const ownRoute: ModelRoute = { name: 'local', provider: 'ollama', model: 'llama3.1:8b', fallbacks: [] };
    const configured = router([fast, ownRoute]);
    expect(configured.aliases()).toEqual(['fast', 'local']);
    expect(configured.providers()).toEqual(['openai', 'anthropic', 'gemini', 'deepseek', 'siliconflow', 'ollama']);
  });

  it('should answer every model with undefined or a route that keeps what was asked', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constantFrom('gpt-', 'deepseek/', 'claude-', 'fast')),
        fc.string(),
        (a, b) => {
          const model = `${a}${b}`;
          const resolved = router().resolve(model);
          if (resolved !== undefined) {
            expect(resolved.requested).toBe(model);
            expect(resolved.upstreamModel.length).toBeGreaterThan(0);
          }
        },
      ),
    );
  });
});

describe(routeTableProblems.name, () => {
  const openrouter: OpenAiCompatibleProvider = {
    name: 'openrouter',
    baseUrl: 'https://openrouter.ai/api',
    models: ['meta-llama/*', 'anthropic/*'],
  };

  it('should find nothing wrong in a table whose aliases, fallbacks and patterns all route', () => {
    const smart: ModelRoute = {
      name: 'smart',
      provider: 'deepseek',
      model: 'deepseek-chat',
      fallbacks: ['fast', 'x-1'],
    };
    const x1: OpenAiCompatibleProvider = { name: 'x', baseUrl: 'https://x.example', models: ['x-*'] };
    expect(routeTableProblems({ compatibleProviders: [deepseek, x1], models: [fast, smart] })).toEqual([]);
  });

  it('should name an alias whose provider does not exist, and fallbacks to itself or to no route', () => {
    const typo: ModelRoute = { name: 'cheap', provider: 'deepsek', model: 'deepseek-chat', fallbacks: [] };
    const loop: ModelRoute = { name: 'loop', provider: 'openai', model: 'gpt-4o', fallbacks: ['loop', 'nosuch-model'] };
    expect(routeTableProblems({ compatibleProviders: [deepseek], models: [typo, loop] })).toEqual([
      expect.stringMatching(
        /^models\.0\.provider: no provider is named "deepsek" \(there are openai, anthropic, gemini, deepseek\)$/,
      ),
      'models.1.fallbacks.0: "loop" cannot fall back to itself',
      'models.1.fallbacks.1: no route knows the model "nosuch-model"',
    ]);
  });

  it("should name a provider's pattern that a provider prefix always takes first", () => {
    expect(routeTableProblems({ compatibleProviders: [openrouter], models: [] })).toEqual([
      expect.stringContaining('providers.openrouter.models.1: "anthropic/*" never matches'),
    ]);
  });

  it('should agree with the router: a pattern it names never resolves to its provider', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('openai', 'anthropic', 'gemini', 'deepseek', 'meta-llama', 'x'),
        fc.stringMatching(/^[a-z0-9-]{1,8}$/),
        (prefix, rest) => {
          const provider: OpenAiCompatibleProvider = {
            name: 'or',
            baseUrl: 'https://o.example',
            models: [`${prefix}/*`],
          };
          const table = { compatibleProviders: [deepseek, provider], models: [] };
          const resolved = new ModelRouter(table).resolve(`${prefix}/${rest}`);
          return routeTableProblems(table).length > 0 === (resolved?.provider !== 'or');
        },
      ),
    );
  });
});
