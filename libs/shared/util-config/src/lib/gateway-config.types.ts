import type { OpenAiCompatibleProvider } from './openai-compatible-providers';

/** One `env:NAME` entry of a provider's `api_keys`: where it is in the file and the variable it names. */
export interface ApiKeyReference {
  provider: string;
  variable: string;
  /** Its place in the file, such as `providers.deepseek.api_keys.0`. */
  path: string;
}

/** One entry of `models:`: a model name clients may ask for, served by `provider` as `model`. */
export interface ModelRoute {
  name: string;
  provider: string;
  model: string;
  /** Models tried in order when the first cannot answer. */
  fallbacks: readonly string[];
}

/** USD per million tokens. */
export interface TokenPrices {
  input: number;
  output: number;
  /** The price of prompt tokens read from the provider's cache; else the input price. */
  cachedInput?: number;
  /** The price of prompt tokens written to the provider's cache (Anthropic's cache writes); else the input price. */
  cacheWrite?: number;
  /** The price of cache writes with Anthropic's 1-hour lifetime; else the cache-write price. */
  cacheWrite1h?: number;
}

/** A model's prices (USD per million tokens). */
export interface ModelPrice extends TokenPrices {
  /**
   * The prices of a request whose prompt has more than `aboveTokens` tokens (Gemini 2.5 Pro's and Claude Sonnet
   * 4's above 200k): the whole request is billed at them.
   */
  longContext?: TokenPrices & { aboveTokens: number };
}

/** The `GATEWAY_CONFIG` file as validated, its secrets still references. */
export interface GatewayConfigDocument {
  compatibleProviders: readonly OpenAiCompatibleProvider[];
  apiKeyReferences: readonly ApiKeyReference[];
  models: readonly ModelRoute[];
  prices: Readonly<Record<string, ModelPrice>>;
}

/** The `GATEWAY_CONFIG` file read at start, each `env:NAME` key resolved from the environment. */
export interface GatewayConfigFile {
  /** The path as `GATEWAY_CONFIG` gave it. */
  source: string;
  compatibleProviders: readonly OpenAiCompatibleProvider[];
  /** The keys each provider's `api_keys` named, in order (secrets: never logged). */
  apiKeys: ReadonlyMap<string, readonly string[]>;
  models: readonly ModelRoute[];
  prices: Readonly<Record<string, ModelPrice>>;
}
