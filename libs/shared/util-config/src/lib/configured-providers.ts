import { z } from 'zod';
import { ConfigValidationError, type Environment } from './env-schema';
import { loadGatewayConfigFile, readGatewayConfigDocument } from './gateway-config.reader';
import type { OpenAiCompatibleProvider } from './openai-compatible-providers';

/** `GATEWAY_CONFIG`: the path of the YAML config file, relative to the working directory; unset: no file. */
export const gatewayConfigPathSchema = z.string().trim().min(1).optional();

/** The two settings that declare OpenAI-compatible providers, as the env schemas parsed them. */
export interface CompatibleProviderSettings {
  OPENAI_COMPATIBLE_PROVIDERS: readonly OpenAiCompatibleProvider[];
  GATEWAY_CONFIG?: string | undefined;
}

/**
 * `resolve`: every `env:NAME` key in the file must be set (the gateway, which attaches the keys).
 * `references-only`: the references are checked but not read (the openai-relay, which never holds the keys).
 */
export type ApiKeyHandling = 'resolve' | 'references-only';

function fileProviders(source: string, env: Environment, apiKeys: ApiKeyHandling): readonly OpenAiCompatibleProvider[] {
  return apiKeys === 'resolve'
    ? loadGatewayConfigFile(source, env).compatibleProviders
    : readGatewayConfigDocument(source).compatibleProviders;
}

/**
 * Every OpenAI-compatible provider: those of `OPENAI_COMPATIBLE_PROVIDERS`, then those of the `GATEWAY_CONFIG`
 * file. The openai-relay and the gateway both take their list from here, so the two cannot disagree. A name
 * declared in both stops the start, as does any problem in the file.
 */
export function configuredOpenAiCompatibleProviders(
  settings: CompatibleProviderSettings,
  env: Environment,
  apiKeys: ApiKeyHandling,
): readonly OpenAiCompatibleProvider[] {
  const fromEnv = settings.OPENAI_COMPATIBLE_PROVIDERS;
  const source = settings.GATEWAY_CONFIG;
  if (source === undefined) {
    return fromEnv;
  }
  const fromFile = fileProviders(source, env, apiKeys);
  const problems = fromFile
    .filter((provider) => fromEnv.some((other) => other.name === provider.name))
    .map(
      (provider) =>
        `provider name "${provider.name}" is configured both in OPENAI_COMPATIBLE_PROVIDERS and in GATEWAY_CONFIG ${source}`,
    );
  if (problems.length > 0) {
    throw new ConfigValidationError(problems);
  }
  return [...fromEnv, ...fromFile];
}

/**
 * The headers the providers' keys travel in besides Authorization (each `key_header`, once), for
 * PlatformSettings.secretHeaderNames: a service that sees those headers never logs their values.
 */
export function providerKeyHeaders(providers: readonly OpenAiCompatibleProvider[]): readonly string[] {
  return [...new Set(providers.flatMap((provider) => (provider.keyHeader === undefined ? [] : [provider.keyHeader])))];
}
