import type { ModelRoute, OpenAiCompatibleProvider } from '@openai-proxy/util-config';
import { modelMatches } from './model-patterns';

/** The providers the gateway serves itself, through the bridges and the relay. */
export const BUILT_IN_PROVIDERS: readonly string[] = ['openai', 'anthropic', 'gemini'];

/** OpenAI's model families: chat and reasoning, embeddings, images, audio, moderation. */
const OPENAI_FAMILIES: readonly string[] = [
  'gpt-*',
  'o1*',
  'o3*',
  'o4*',
  'chatgpt-*',
  'text-embedding-*',
  'dall-e-*',
  'whisper-*',
  'tts-*',
  'omni-moderation-*',
];

/** Where a model goes when nothing in the configuration names it. */
const BUILT_IN_ROUTES: readonly { pattern: string; provider: string }[] = [
  ...OPENAI_FAMILIES.map((pattern) => ({ pattern, provider: 'openai' })),
  { pattern: 'claude-*', provider: 'anthropic' },
  { pattern: 'gemini-*', provider: 'gemini' },
];

/** A model a client asked for, and where it is sent. */
export interface ResolvedModel {
  /** The model as the client asked for it (an alias stays an alias). */
  requested: string;
  /** `openai`, `anthropic`, `gemini`, or a configured OpenAI-compatible provider's name. */
  provider: string;
  /** The model sent upstream. */
  upstreamModel: string;
  /** Models to try, in order, when this one cannot answer (from the config file's `models:` entry). */
  fallbacks: readonly string[];
}

/** What the router is built from: the configured OpenAI-compatible providers and the config file's `models:`. */
export interface ModelRouterConfig {
  compatibleProviders: readonly OpenAiCompatibleProvider[];
  models: readonly ModelRoute[];
}

/**
 * Routing by model for the team endpoint (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`). The first rule
 * that matches wins, in this order, so the configuration overrides the built-in defaults:
 *
 * 1. a config file `models:` entry by its exact name (an alias): its provider, its model, its fallbacks;
 * 2. `<name>/<model>`, where `<name>` is a configured OpenAI-compatible provider or a built-in one (`openai`,
 *    `anthropic`, `gemini`): sent to that provider as `<model>` (`deepseek/deepseek-chat` → `deepseek-chat`);
 * 3. a configured OpenAI-compatible provider's declared model patterns (`deepseek-*`), providers in their order;
 * 4. the built-ins: `gpt-*`, `o1*`, `o3*`, `o4*`, `chatgpt-*`, `text-embedding-*`, `dall-e-*`, `whisper-*`,
 *    `tts-*`, `omni-moderation-*` → openai; `claude-*` → anthropic; `gemini-*` → gemini.
 *
 * Anything else (an empty or non-string model included) has no route.
 */
export class ModelRouter {
  private readonly aliasRoutes: ReadonlyMap<string, ModelRoute>;
  private readonly prefixedProviders: ReadonlySet<string>;
  private readonly patternRoutes: readonly { pattern: string; provider: string }[];

  constructor(config: ModelRouterConfig) {
    this.aliasRoutes = new Map(config.models.map((route) => [route.name, route]));
    this.prefixedProviders = knownProviders(config);
    const declared = config.compatibleProviders.flatMap((provider) =>
      (provider.models ?? []).map((pattern) => ({ pattern, provider: provider.name })),
    );
    this.patternRoutes = [...declared, ...BUILT_IN_ROUTES];
  }

  /** Where `model` goes, or undefined when no rule knows it. */
  resolve(model: unknown): ResolvedModel | undefined {
    if (typeof model !== 'string' || model === '') {
      return undefined;
    }
    const alias = this.aliasRoutes.get(model);
    if (alias !== undefined) {
      return { requested: model, provider: alias.provider, upstreamModel: alias.model, fallbacks: alias.fallbacks };
    }
    const separator = model.indexOf('/');
    const prefix = model.slice(0, separator);
    if (separator > 0 && separator < model.length - 1 && this.prefixedProviders.has(prefix)) {
      return { requested: model, provider: prefix, upstreamModel: model.slice(separator + 1), fallbacks: [] };
    }
    const route = this.patternRoutes.find(({ pattern }) => modelMatches(pattern, model));
    return route === undefined
      ? undefined
      : { requested: model, provider: route.provider, upstreamModel: model, fallbacks: [] };
  }

  /** The config file's model names (aliases), in the file's order, for `/v1/models`. */
  aliases(): readonly string[] {
    return [...this.aliasRoutes.keys()];
  }

  /** Every provider the table can route to: the built-ins, the configured ones, and those aliases name. */
  providers(): readonly string[] {
    return [...new Set([...this.prefixedProviders, ...[...this.aliasRoutes.values()].map(({ provider }) => provider)])];
  }
}

/** The providers a routing table may name: the built-ins and the configured ones. */
function knownProviders(config: ModelRouterConfig): ReadonlySet<string> {
  return new Set([...BUILT_IN_PROVIDERS, ...config.compatibleProviders.map(({ name }) => name)]);
}

/**
 * What in a routing table can never work, for the start to stop on (each problem named by its place in the config
 * file): an alias whose provider does not exist, an alias that falls back to itself or to a model no rule routes,
 * and a provider's model pattern that rule 2 always takes first (`anthropic/*` goes to the anthropic provider).
 */
export function routeTableProblems(config: ModelRouterConfig): string[] {
  const router = new ModelRouter(config);
  const providers = knownProviders(config);
  const problems: string[] = [];
  config.models.forEach((route, index) => {
    if (!providers.has(route.provider)) {
      problems.push(
        `models.${index}.provider: no provider is named "${route.provider}" (there are ${[...providers].join(', ')})`,
      );
    }
    route.fallbacks.forEach((fallback, at) => {
      if (fallback === route.name) {
        problems.push(`models.${index}.fallbacks.${at}: "${route.name}" cannot fall back to itself`);
      } else if (router.resolve(fallback) === undefined) {
        problems.push(`models.${index}.fallbacks.${at}: no route knows the model "${fallback}"`);
      }
    });
  });
  for (const provider of config.compatibleProviders) {
    (provider.models ?? []).forEach((pattern, at) => {
      const prefix = pattern.slice(0, Math.max(pattern.indexOf('/'), 0));
      if (providers.has(prefix)) {
        problems.push(
          `providers.${provider.name}.models.${at}: "${pattern}" never matches, a model "${prefix}/…" goes to the ` +
            `${prefix} provider first; ask for "${provider.name}/${prefix}/…" or name the model in an alias`,
        );
      }
    });
  }
  return problems;
}
