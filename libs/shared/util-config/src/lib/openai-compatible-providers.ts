import { z } from 'zod';
import { SERVICES_MANIFEST, servicePrefixes } from '@openai-proxy/util-services';
import { baseUrlSchema } from './env-schema';

/** One provider that speaks OpenAI's wire format, served at `/<name>/**` like `/openai/**`. */
export interface OpenAiCompatibleProvider {
  name: string;
  /** An http(s) URL without a trailing slash; its path is kept as a prefix of every relayed path. */
  baseUrl: string;
  /**
   * The lower-case header the client's key goes upstream in, such as Azure OpenAI's `api-key`; unset: the
   * client's `Authorization` passes as sent.
   */
  keyHeader?: string;
  /** Query parameters set on every upstream request, such as Azure's `api-version`; they replace the client's. */
  query?: Readonly<Record<string, string>>;
  /** Model patterns (`deepseek-*`) for routing by model in team mode. */
  models?: readonly string[];
}

export type OpenAiCompatibleProvidersResult =
  { ok: true; providers: readonly OpenAiCompatibleProvider[] } | { ok: false; problems: readonly string[] };

/**
 * Path prefixes the services (from the services manifest) and the gateway serve themselves; a provider may not
 * take one of them.
 */
export const BUILT_IN_PREFIXES: readonly string[] = [
  ...servicePrefixes(SERVICES_MANIFEST),
  'v1',
  'admin',
  'dashboard',
  'docs',
  'metrics',
  'healthz',
  'readyz',
];

/** Lowercase letters, digits and `-`, a letter or digit at each end (`-` alone is no name). */
const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** A base URL path's last segment that names an API version (`v1`, `v4`, `v1beta`). */
const VERSION_SEGMENT = /\/v\d+[a-z0-9]*$/;

/**
 * Where a provider's OpenAI-format API starts under its base URL, as team mode calls it (`<base><root>/chat/
 * completions`): the base itself when its path already ends in a version segment (Zhipu's `/api/paas/v4`, Ark's
 * `/api/v3`, an SDK-style `…/openai/v1`), else `/v1` under it (`https://api.deepseek.com`,
 * `…/compatible-mode`), the two ways the README's provider table writes a base URL.
 */
export function openAiApiRoot(provider: Pick<OpenAiCompatibleProvider, 'baseUrl'>): '' | '/v1' {
  return VERSION_SEGMENT.test(new URL(provider.baseUrl).pathname) ? '' : '/v1';
}

/** What is wrong with a provider name (not lowercase `[a-z0-9-]`, or a built-in prefix), or undefined. */
export function providerNameProblem(name: string): string | undefined {
  if (!NAME_PATTERN.test(name)) {
    return `provider name "${name}" must be lowercase [a-z0-9-], a letter or digit at each end`;
  }
  if (BUILT_IN_PREFIXES.includes(name)) {
    return `provider name "${name}" collides with the built-in prefix /${name}`;
  }
  return undefined;
}

/** The provider in one `name=baseURL` entry, or what is wrong with it. */
function parseEntry(entry: string): OpenAiCompatibleProvider | string {
  const separator = entry.indexOf('=');
  if (separator < 0) {
    return `"${entry}" is not a name=baseURL pair`;
  }
  const name = entry.slice(0, separator).trim();
  const url = entry.slice(separator + 1).trim();
  if (name === '') {
    return `"${entry}" has no name before "="`;
  }
  const nameProblem = providerNameProblem(name);
  if (nameProblem !== undefined) {
    return nameProblem;
  }
  const baseUrl = baseUrlSchema.safeParse(url);
  if (!baseUrl.success) {
    // A URL with a login in it is not repeated: the login would be a secret.
    const shown = url.includes('@') ? '(not shown: it holds a login)' : `"${url}"`;
    const reason = baseUrl.error.issues[0]?.message ?? 'an http(s) URL is expected';
    return `provider "${name}" has a bad base URL ${shown}: ${reason}`;
  }
  return { name, baseUrl: baseUrl.data };
}

/** Parses `OPENAI_COMPATIBLE_PROVIDERS` (`name=baseURL,…`); every bad entry is named, not only the first. */
export function parseOpenAiCompatibleProviders(value: string): OpenAiCompatibleProvidersResult {
  const providers: OpenAiCompatibleProvider[] = [];
  const problems: string[] = [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') {
      problems.push(parsed);
    } else if (providers.some((provider) => provider.name === parsed.name)) {
      problems.push(`provider name "${parsed.name}" is configured more than once`);
    } else {
      providers.push(parsed);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, providers };
}

/** `OPENAI_COMPATIBLE_PROVIDERS` in an env shape: one issue per problem, no providers when unset. */
export const openAiCompatibleProvidersSchema = z
  .string()
  .transform((value, context): readonly OpenAiCompatibleProvider[] => {
    const result = parseOpenAiCompatibleProviders(value);
    if (result.ok) {
      return result.providers;
    }
    for (const problem of result.problems) {
      context.addIssue({ code: 'custom', message: problem });
    }
    return z.NEVER;
  })
  .default([]);
