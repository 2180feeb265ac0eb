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
