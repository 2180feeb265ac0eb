import { z } from 'zod';
import { baseUrlSchema } from './env-schema';
import type {
  ApiKeyReference,
  GatewayConfigDocument,
  ModelPrice,
  ModelRoute,
  TokenPrices,
} from './gateway-config.types';
import { type OpenAiCompatibleProvider, providerNameProblem } from './openai-compatible-providers';

/** Built-in providers whose upstream keys the file may name (`openai: { api_keys: [env:OPENAI_API_KEY] }`). */
export const KEYED_BUILT_IN_PROVIDERS: readonly string[] = ['openai', 'anthropic', 'gemini'];

/** The key header that means "the client's `Authorization` as sent". */
const DEFAULT_KEY_HEADER = 'authorization';

/** Headers the relay sets or drops itself: a key sent in one of them would never arrive. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'content-length',
  'content-type',
  'cookie',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const RESERVED_HEADER_PREFIXES: readonly string[] = ['x-forwarded-', 'x-openai-proxy-'];

/** A secret is named, never written: `env:NAME`, read from the environment at start. */
const envReferenceSchema = z
  .string({ error: 'an env:NAME reference is expected' })
  .regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'must be an env:NAME reference (a key is never written in the file)')
  .transform((reference) => reference.slice('env:'.length));

const keyHeaderSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]+$/, 'a header name of letters, digits and "-" is expected')
  .refine(
    (name) => !RESERVED_HEADERS.has(name) && !RESERVED_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix)),
    'this header is set by the relay itself, a key cannot travel in it',
  );

/** `deepseek-*`, `gpt-4o`, `Qwen/Qwen2.5-72B-Instruct`, `llama3.1:8b`: a model name, or a prefix ending in `*`. */
const modelPatternSchema = z
  .string({ error: 'a model name or prefix is expected' })
  .trim()
  .regex(/^[A-Za-z0-9@][A-Za-z0-9._:/@+-]*\*?$/, 'a model name, or a prefix followed by one "*", is expected');

const compatibleProviderSchema = z.strictObject({
  type: z.literal('openai-compatible'),
  base_url: baseUrlSchema,
  key_header: keyHeaderSchema.optional(),
  query: z.record(z.string().min(1), z.string({ error: 'a text is expected (quote the value)' })).optional(),
  models: z.array(modelPatternSchema).optional(),
  api_keys: z.array(envReferenceSchema).optional(),
});

const builtInProviderSchema = z.strictObject({ api_keys: z.array(envReferenceSchema).optional() });

interface ParsedProviders {
  compatible: OpenAiCompatibleProvider[];
  apiKeys: ApiKeyReference[];
}

type IssueSink = (path: readonly PropertyKey[], message: string) => void;

function toCompatibleProvider(name: string, entry: z.infer<typeof compatibleProviderSchema>): OpenAiCompatibleProvider {
  const keyHeader = entry.key_header === DEFAULT_KEY_HEADER ? undefined : entry.key_header;
  const hasQuery = entry.query !== undefined && Object.keys(entry.query).length > 0;
  return {
    name,
    baseUrl: entry.base_url,
    ...(keyHeader === undefined ? {} : { keyHeader }),
    ...(hasQuery ? { query: entry.query } : {}),
    ...(entry.models === undefined ? {} : { models: entry.models }),
  };
}

function pushApiKeys(name: string, variables: readonly string[] | undefined, parsed: ParsedProviders): void {
  (variables ?? []).forEach((variable, index) => {
    parsed.apiKeys.push({ provider: name, variable, path: `providers.${name}.api_keys.${index}` });
  });
}

function reportIssues(name: string, error: z.ZodError, report: IssueSink): void {
  for (const issue of error.issues) {
    report([name, ...issue.path], issue.message);
  }
}

/** One `providers:` entry: a built-in's keys, or an OpenAI-compatible provider (its name checked as for env). */
function parseProviderEntry(name: string, value: unknown, parsed: ParsedProviders, report: IssueSink): void {
  const declaresType = typeof value === 'object' && value !== null && 'type' in value;
  if (KEYED_BUILT_IN_PROVIDERS.includes(name) && !declaresType) {
    const builtIn = builtInProviderSchema.safeParse(value);
    if (builtIn.success) {
      pushApiKeys(name, builtIn.data.api_keys, parsed);
    } else {
      reportIssues(name, builtIn.error, report);
    }
    return;
  }
  const nameProblem = providerNameProblem(name);
  if (nameProblem !== undefined) {
    report([name], nameProblem);
  }
  const compatible = compatibleProviderSchema.safeParse(value);
  if (!compatible.success) {
    reportIssues(name, compatible.error, report);
  } else if (nameProblem === undefined) {
    pushApiKeys(name, compatible.data.api_keys, parsed);
    parsed.compatible.push(toCompatibleProvider(name, compatible.data));
  }
}

const providersSchema = z.record(z.string(), z.unknown()).transform((entries, context): ParsedProviders => {
  const parsed: ParsedProviders = { compatible: [], apiKeys: [] };
  const report: IssueSink = (path, message) => context.addIssue({ code: 'custom', message, path: [...path] });
  for (const [name, value] of Object.entries(entries)) {
    parseProviderEntry(name, value, parsed, report);
  }
  return parsed;
});

const modelRouteSchema = z
  .strictObject({
    name: z.string().trim().min(1),
    provider: z.string().trim().min(1),
    model: z.string().trim().min(1),
    fallbacks: z.array(z.string().trim().min(1)).optional(),
  })
  .transform((route): ModelRoute => ({
    name: route.name,
    provider: route.provider,
    model: route.model,
    fallbacks: route.fallbacks ?? [],
  }));

const modelRoutesSchema = z.array(modelRouteSchema).superRefine((routes, context) => {
  routes.forEach((route, index) => {
    if (routes.findIndex((other) => other.name === route.name) < index) {
      context.addIssue({ code: 'custom', message: `model "${route.name}" is declared more than once`, path: [index] });
    }
  });
});

const usdPerMillionSchema = z.number().nonnegative();

const tokenPricesShape = {
  input: usdPerMillionSchema,
  output: usdPerMillionSchema,
  cached_input: usdPerMillionSchema.optional(),
  cache_write: usdPerMillionSchema.optional(),
  cache_write_1h: usdPerMillionSchema.optional(),
};

/** The file's prices of one tier, as TokenPrices. */
function tokenPrices(price: z.output<z.ZodObject<typeof tokenPricesShape>>): TokenPrices {
  return {
    input: price.input,
    output: price.output,
    ...(price.cached_input === undefined ? {} : { cachedInput: price.cached_input }),
    ...(price.cache_write === undefined ? {} : { cacheWrite: price.cache_write }),
    ...(price.cache_write_1h === undefined ? {} : { cacheWrite1h: price.cache_write_1h }),
  };
}

const priceSchema = z
  .strictObject({
    ...tokenPricesShape,
    long_context: z.strictObject({ above_tokens: z.number().int().positive(), ...tokenPricesShape }).optional(),
  })
  .transform((price): ModelPrice => ({
    ...tokenPrices(price),
    ...(price.long_context === undefined
      ? {}
      : { longContext: { aboveTokens: price.long_context.above_tokens, ...tokenPrices(price.long_context) } }),
  }));

/**
 * The whole `GATEWAY_CONFIG` file (every part optional, unknown keys refused), so its format is fixed once:
 * `providers` (OpenAI-compatible ones, and the built-ins' `api_keys`), `models` (routes) and `prices` (USD per
 * million tokens).
 */
export const gatewayConfigSchema = z
  .strictObject({
    providers: providersSchema.optional(),
    models: modelRoutesSchema.optional(),
    prices: z.record(z.string().trim().min(1), priceSchema).optional(),
  })
  .transform((file): GatewayConfigDocument => ({
    compatibleProviders: file.providers?.compatible ?? [],
    apiKeyReferences: file.providers?.apiKeys ?? [],
    models: file.models ?? [],
    prices: file.prices ?? {},
  }));
