import { z } from 'zod';
import { ConfigValidationError } from './env-schema';
import { readGatewayConfigDocument } from './gateway-config.reader';
import type { OpenAiCompatibleProvider } from './openai-compatible-providers';

/** `GATEWAY_CONFIG`: the path of the YAML config file, relative to the working directory; unset: no file. */
export const gatewayConfigPathSchema = z.string().trim().min(1).optional();

/** The two settings that declare OpenAI-compatible providers, as the env schemas parsed them. */
export interface CompatibleProviderSettings {
  OPENAI_COMPATIBLE_PROVIDERS: readonly OpenAiCompatibleProvider[];
  GATEWAY_CONFIG?: string | undefined;
}

/**
 * Every OpenAI-compatible provider: those of `OPENAI_COMPATIBLE_PROVIDERS`, then those of the `GATEWAY_CONFIG`
 * file. The openai-relay and the gateway both take their list from here, so the two cannot disagree. A name
 * declared in both stops the start, as does any problem in the file. The file's `env:NAME` key references are
 * only checked here: the gateway resolves them in team mode (resolveApiKeys), no other service holds them.
 */
export function configuredOpenAiCompatibleProviders(
  settings: CompatibleProviderSettings,
): readonly OpenAiCompatibleProvider[] {
  const fromEnv = settings.OPENAI_COMPATIBLE_PROVIDERS;
  const source = settings.GATEWAY_CONFIG;
  if (source === undefined) {
    return fromEnv;
  }
  const fromFile = readGatewayConfigDocument(source).compatibleProviders;
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
