import type { GatewaySettings } from './gateway.settings';

/** One backend service and the public path prefixes it serves. */
export interface ServiceRoute {
  name: 'openai-relay' | 'claude-bridge' | 'bard-bridge';
  prefixes: readonly string[];
  url: string;
}

/** Path prefix → service. Services serve the same public paths, so the gateway forwards paths unchanged. */
export function serviceRoutes(settings: GatewaySettings): readonly ServiceRoute[] {
  return [
    { name: 'openai-relay', prefixes: ['openai'], url: settings.openaiRelayUrl },
    { name: 'claude-bridge', prefixes: ['claude', 'anthropic'], url: settings.claudeBridgeUrl },
    { name: 'bard-bridge', prefixes: ['google', 'gemini'], url: settings.bardBridgeUrl },
  ];
}

/**
 * One route per OpenAI-compatible provider, owned by the openai-relay: separate from its `/openai` route so each
 * provider has its own metrics label, and not in serviceRoutes so readiness still asks the relay only once.
 */
export function compatibleProviderRoutes(settings: GatewaySettings): readonly ServiceRoute[] {
  return settings.compatibleProviderNames.map((name) => ({
    name: 'openai-relay',
    prefixes: [name],
    url: settings.openaiRelayUrl,
  }));
}
