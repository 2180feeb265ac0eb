/** Injection token for GatewaySettings. */
export const GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');

export interface GatewaySettings {
  /** `OPENAI_RELAY_URL`, `CLAUDE_BRIDGE_URL`, `BARD_BRIDGE_URL`: where each service listens. */
  openaiRelayUrl: string;
  claudeBridgeUrl: string;
  bardBridgeUrl: string;
  /** `OPENAI_COMPATIBLE_PROVIDERS` names: each `/<name>/**` is forwarded to the openai-relay. */
  compatibleProviderNames: readonly string[];
  /** `ACCESS_CONTROL_ALLOW_ORIGIN`. */
  allowOrigin: string;
  /** `RATE_LIMIT_PER_MINUTE`; undefined turns the limit off. */
  rateLimitPerMinute: number | undefined;
}
