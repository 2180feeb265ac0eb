/** Injection token for GatewaySettings. */
export const GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');

export interface GatewaySettings {
  /** Where each backend service listens, by service name, from its URL variable (`OPENAI_RELAY_URL`, …). */
  serviceUrls: Readonly<Record<string, string>>;
  /** `OPENAI_COMPATIBLE_PROVIDERS` names: each `/<name>/**` is forwarded to the openai-relay. */
  compatibleProviderNames: readonly string[];
  /** `ACCESS_CONTROL_ALLOW_ORIGIN`. */
  allowOrigin: string;
  /** `RATE_LIMIT_PER_MINUTE`; undefined turns the limit off. */
  rateLimitPerMinute: number | undefined;
}
