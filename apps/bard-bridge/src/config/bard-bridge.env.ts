import {
  type Environment,
  type PlatformSettings,
  applyAliases,
  baseUrlSchema,
  commonEnvShape,
  parseEnvironment,
  portSchema,
  toPlatformSettings,
} from '@openai-proxy/util-config';

const bardBridgeEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(3003),
  BARD_BASE: baseUrlSchema.default('https://gemini.google.com'),
  GEMINI_API_BASE: baseUrlSchema.default('https://generativelanguage.googleapis.com'),
};

/** Bard web and Gemini API settings (their routes arrive with the bard-bridge issue). */
export interface GoogleSettings {
  bardBase: string;
  geminiApiBase: string;
}

export interface BardBridgeConfig {
  platform: PlatformSettings;
  google: GoogleSettings;
}

export function loadBardBridgeConfig(env: Environment = process.env): BardBridgeConfig {
  const parsed = parseEnvironment(
    bardBridgeEnvShape,
    applyAliases(env, { HTTPS_PROXY: ['https_proxy'], NO_PROXY: ['no_proxy'] }),
  );
  return {
    platform: toPlatformSettings('bard-bridge', parsed.PORT, parsed, 'loopback, linklocal, uniquelocal'),
    google: { bardBase: parsed.BARD_BASE, geminiApiBase: parsed.GEMINI_API_BASE },
  };
}
