import type { ModelPrice, ModelRoute, OpenAiCompatibleProvider } from '@openai-proxy/util-config';
import type { GatewayKeysMode } from '@openai-proxy/gateway-util-team';

/** Injection token for TeamSettings. */
export const TEAM_SETTINGS = Symbol('TEAM_SETTINGS');

/** Team mode's configuration, from the gateway's environment and its `GATEWAY_CONFIG` file. */
export interface TeamSettings {
  /** `GATEWAY_KEYS`. */
  mode: GatewayKeysMode;
  /** `GATEWAY_ADMIN_TOKEN`; undefined: `/admin/*` answers 404. */
  adminToken: string | undefined;
  /**
   * The provider keys the gateway attaches for gateway-key requests, by provider (`openai`, `anthropic`, `gemini`,
   * a configured name): `OPENAI_API_KEY`… (comma-separated) and the config file's `api_keys`. Secrets.
   */
  providerKeys: ReadonlyMap<string, readonly string[]>;
  /** `DATABASE_URL`: `sqlite:<path>` or `postgres://…`. */
  databaseUrl: string;
  /** `REDIS_URL`; undefined: limits in process. */
  redisUrl: string | undefined;
  /** Every OpenAI-compatible provider (env and file), for routing by model. */
  compatibleProviders: readonly OpenAiCompatibleProvider[];
  /** The config file's `models:` (aliases and fallbacks). */
  models: readonly ModelRoute[];
  /** The config file's `prices:`, over the built-in table. */
  prices: Readonly<Record<string, ModelPrice>>;
  /** `MAX_JSON_BODY_BYTES`: team routes read JSON bodies whole. */
  maxJsonBodyBytes: number;
  /** Where each backend service listens, by service name (the gateway's `*_URL` variables). */
  serviceUrls: Readonly<Record<string, string>>;
}
