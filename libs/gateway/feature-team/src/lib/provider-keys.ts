import { Inject, Injectable } from '@nestjs/common';
import { type BreakerView, MetricsService, ReadinessService } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { type KeyLease, ProviderKeyPool } from './provider-key-pool';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';

/** The variable that gives each built-in provider its keys, for the message when none is set. */
const KEY_VARIABLES: Readonly<Record<string, string>> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
};

/**
 * The key pools the gateway holds, one per provider (`OPENAI_API_KEY`…, and the config file's `api_keys`); each
 * key's breaker is shown under `breakers.keys` of /readyz and as `provider_key_circuit_state{key}` in /metrics.
 */
@Injectable()
export class ProviderKeys {
  private readonly pools: ReadonlyMap<string, ProviderKeyPool>;
  private readonly headers: readonly string[];

  constructor(@Inject(TEAM_SETTINGS) settings: TeamSettings, readiness: ReadinessService, metrics: MetricsService) {
    this.pools = new Map([...settings.providerKeys].map(([provider, keys]) => [provider, new ProviderKeyPool(keys)]));
    this.headers = [
      ...new Set(
        settings.compatibleProviders.flatMap((provider) =>
          provider.keyHeader === undefined ? [] : [provider.keyHeader],
        ),
      ),
    ];
    if (this.pools.size > 0) {
      readiness.registerBreakers('keys', () => this.views());
      metrics.registerKeyBreakers(() => this.views());
    }
  }

  /** Every pooled key's breaker, by provider and place (`openai#1`). */
  private views(): Record<string, BreakerView> {
    return Object.fromEntries([...this.pools].flatMap(([provider, pool]) => Object.entries(pool.views(provider))));
  }

  /** Refuses with 503 when the gateway holds no key for `provider` (a member cannot bring one with a gateway key). */
  requireKeys(provider: string): void {
    if (!this.pools.has(provider)) {
      const where = KEY_VARIABLES[provider] ?? `providers.${provider}.api_keys in GATEWAY_CONFIG`;
      throw new GatewayException(
        ErrorCode.UpstreamUnavailable,
        `The gateway holds no key for ${provider}: its operator sets ${where}`,
      );
    }
  }

  lease(provider: string, tried: ReadonlySet<string>): KeyLease | undefined {
    return this.pools.get(provider)?.lease(tried);
  }

  /** A key for a call that must not rest or revive one (see ProviderKeyPool.peek). */
  peek(provider: string): string | undefined {
    return this.pools.get(provider)?.peek();
  }

  poolSize(provider: string): number {
    return this.pools.get(provider)?.size ?? 0;
  }

  /** Providers the gateway holds keys for. */
  providers(): readonly string[] {
    return [...this.pools.keys()];
  }

  /** The configured providers' own key headers (Azure's `api-key` is one of the standard ones). */
  keyHeaders(): readonly string[] {
    return this.headers;
  }
}
