import type { ModelPrice, TokenPrices } from '@openai-proxy/util-config';
import type { MeteredUsage } from './team.types';

const TOKENS_PER_MILLION = 1_000_000;

/** Where Anthropic's and Gemini's long-context prices start: prompts of more than 200k tokens. */
const LONG_CONTEXT_ABOVE_TOKENS = 200_000;

/**
 * A Claude model's prices from its input and output prices: Anthropic bills cache reads at 0.1 times the input
 * price, cache writes with the default 5-minute lifetime at 1.25 times it and 1-hour ones at twice it.
 */
function claudePrices(input: number, output: number): TokenPrices {
  return { input, output, cachedInput: input * 0.1, cacheWrite: input * 1.25, cacheWrite1h: input * 2 };
}

/**
 * Claude Sonnet 4 and 4.5: a prompt above 200k tokens (their 1M context) costs twice the input price and 1.5
 * times the output price.
 */
const SONNET_4_PRICE: ModelPrice = {
  ...claudePrices(3, 15),
  longContext: { aboveTokens: LONG_CONTEXT_ABOVE_TOKENS, ...claudePrices(6, 22.5) },
};

/**
 * USD per million tokens for the common models: prices as listed by the providers, checked December 2026 (the
 * lists as the providers published them in 2025 and 2026; newer models are priced through the config file's
 * `prices:`). `cachedInput` is the prompt-cache read price, `cacheWrite` that of a prompt-cache write (for
 * Anthropic's, with the default 5-minute lifetime), `cacheWrite1h` that of Anthropic's 1-hour writes.
 * `longContext` holds the dearer prices of a prompt above 200k tokens where a provider has them (Claude Sonnet 4
 * and 4.5 with the 1M context, Gemini 2.5 Pro). A dated model (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`)
 * takes its family's entry; the `-pro` and `-mini` entries are listed so that such a model never takes a far
 * cheaper or dearer family's price.
 */
const BUILT_IN_PRICES: ReadonlyMap<string, ModelPrice> = new Map<string, ModelPrice>([
  ['gpt-4o', { input: 2.5, output: 10, cachedInput: 1.25 }],
  ['gpt-4o-mini', { input: 0.15, output: 0.6, cachedInput: 0.075 }],
  ['gpt-4.1', { input: 2, output: 8, cachedInput: 0.5 }],
  ['gpt-4.1-mini', { input: 0.4, output: 1.6, cachedInput: 0.1 }],
  ['gpt-4.1-nano', { input: 0.1, output: 0.4, cachedInput: 0.025 }],
  ['o1', { input: 15, output: 60, cachedInput: 7.5 }],
  ['o1-mini', { input: 1.1, output: 4.4, cachedInput: 0.55 }],
  ['o1-pro', { input: 150, output: 600 }],
  ['o3', { input: 2, output: 8, cachedInput: 0.5 }],
  ['o3-mini', { input: 1.1, output: 4.4, cachedInput: 0.55 }],
  ['o3-pro', { input: 20, output: 80 }],
  ['o4-mini', { input: 1.1, output: 4.4, cachedInput: 0.275 }],
  ['gpt-5', { input: 1.25, output: 10, cachedInput: 0.125 }],
  ['gpt-5-mini', { input: 0.25, output: 2, cachedInput: 0.025 }],
  ['gpt-5-nano', { input: 0.05, output: 0.4, cachedInput: 0.005 }],
  ['gpt-5-pro', { input: 15, output: 120 }],
  ['text-embedding-3-small', { input: 0.02, output: 0 }],
  ['text-embedding-3-large', { input: 0.13, output: 0 }],
  ['claude-opus-4-6', claudePrices(5, 25)],
  ['claude-opus-4-5', claudePrices(5, 25)],
  ['claude-opus-4-1', claudePrices(15, 75)],
  ['claude-opus-4', claudePrices(15, 75)],
  ['claude-sonnet-4-6', claudePrices(3, 15)],
  ['claude-sonnet-4-5', SONNET_4_PRICE],
  ['claude-sonnet-4', SONNET_4_PRICE],
  ['claude-3-7-sonnet', claudePrices(3, 15)],
  ['claude-haiku-4-5', claudePrices(1, 5)],
  ['claude-3-5-haiku', claudePrices(0.8, 4)],
  [
    'gemini-2.5-pro',
    {
      input: 1.25,
      output: 10,
      cachedInput: 0.125,
      longContext: { aboveTokens: LONG_CONTEXT_ABOVE_TOKENS, input: 2.5, output: 15, cachedInput: 0.25 },
    },
  ],
  ['gemini-2.5-flash', { input: 0.3, output: 2.5, cachedInput: 0.03 }],
  ['gemini-2.5-flash-lite', { input: 0.1, output: 0.4, cachedInput: 0.01 }],
  ['gemini-2.0-flash', { input: 0.1, output: 0.4, cachedInput: 0.025 }],
  ['gemini-2.0-flash-lite', { input: 0.075, output: 0.3 }],
]);

/** How many models' family prices a PriceBook keeps found: model names come from clients; past it, it starts over. */
export const MAX_REMEMBERED_MODELS = 1024;

/**
 * The prices requests are billed by: the config file's `prices:` over the built-in table (name by name), made
 * once per config. A model's price is its exact name's, else that of the longest listed name that the model
 * starts, followed by `-` (`gpt-4o-2024-08-06` → `gpt-4o`, while `gpt-4o-mini` is its own entry), found once and
 * kept (up to MAX_REMEMBERED_MODELS models). Undefined when none is known: the request is metered in tokens and
 * costs 0 USD.
 */
export class PriceBook {
  private readonly prices: ReadonlyMap<string, ModelPrice>;
  /** The listed names, longest first: the first one a model starts (with a `-` after it) is its family. */
  private readonly families: readonly string[];
  private readonly found = new Map<string, ModelPrice | undefined>();

  constructor(configPrices: Readonly<Record<string, ModelPrice>>) {
    const prices = new Map(BUILT_IN_PRICES);
    for (const [name, price] of Object.entries(configPrices)) {
      prices.set(name, price);
    }
    this.prices = prices;
    this.families = [...prices.keys()].sort((a, b) => b.length - a.length);
  }

  /** The price of `model`, or undefined when none is known. */
  priceFor(model: string): ModelPrice | undefined {
    const exact = this.prices.get(model);
    if (exact !== undefined) {
      return exact;
    }
    if (this.found.has(model)) {
      return this.found.get(model);
    }
    const price = this.familyPrice(model);
    if (this.found.size >= MAX_REMEMBERED_MODELS) {
      this.found.clear();
    }
    this.found.set(model, price);
    return price;
  }

  private familyPrice(model: string): ModelPrice | undefined {
    const family = this.families.find((name) => model.startsWith(`${name}-`));
    return family === undefined ? undefined : this.prices.get(family);
  }
}

/**
 * What a request cost in USD: prompt tokens read from the cache at the cached price, those written to it at the
 * cache-write price (the 1-hour ones at theirs, else the cache-write price; each the input price when none is
 * listed), the other prompt tokens at the input price,
 * completion tokens at the output price; all at the long-context prices when the prompt is longer than where
 * they start. 0 without a price.
 */
export function costUsd(price: ModelPrice | undefined, usage: MeteredUsage): number {
  if (price === undefined) {
    return 0;
  }
  const prompt = Math.max(0, usage.promptTokens);
  const cached = Math.min(prompt, Math.max(0, usage.cachedPromptTokens));
  const written = Math.min(prompt - cached, Math.max(0, usage.cacheWritePromptTokens));
  const written1h = Math.min(written, Math.max(0, usage.cacheWrite1hPromptTokens));
  const completion = Math.max(0, usage.completionTokens);
  const long = price.longContext;
  const tier: TokenPrices = long !== undefined && prompt > long.aboveTokens ? long : price;
  const usdTimesMillion =
    (prompt - cached - written) * tier.input +
    cached * (tier.cachedInput ?? tier.input) +
    (written - written1h) * (tier.cacheWrite ?? tier.input) +
    written1h * (tier.cacheWrite1h ?? tier.cacheWrite ?? tier.input) +
    completion * tier.output;
  return usdTimesMillion / TOKENS_PER_MILLION;
}
