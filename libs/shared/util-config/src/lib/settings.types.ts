import type { z } from 'zod';
import type { commonEnvShape, logLevelSchema } from './env-schema';

export type LogLevel = z.infer<typeof logLevelSchema>;

/** The one retry layer and the circuit breakers of upstream calls (data-access-upstream retry-policy.ts). */
export interface UpstreamRetrySettings {
  /** Retries of one call at most (UPSTREAM_RETRIES); 0: none. */
  retries: number;
  /** Retries over the window as a percentage of first attempts (UPSTREAM_RETRY_BUDGET_PERCENT). */
  budgetPercent: number;
  /** Failures in a row that open an upstream's circuit (UPSTREAM_BREAKER_FAILURES); 0: no breaker. */
  breakerFailures: number;
  /** How long an open circuit stays open before a probe (UPSTREAM_BREAKER_OPEN_MS). */
  breakerOpenMs: number;
}

/** How upstream connections are made; one place for every upstream call (HTTP and WebSocket). */
export interface UpstreamSettings {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** The egress proxy URL (http, https, socks5, socks5h; may hold a login): HTTPS_PROXY, else ALL_PROXY. */
  egressProxy: string | undefined;
  /** Hosts reached directly, past the egress proxy (NO_PROXY). */
  noProxy: string | undefined;
  retry: UpstreamRetrySettings;
}

/** What every service needs besides its own routes. */
export interface PlatformSettings {
  serviceName: string;
  port: number;
  logLevel: LogLevel;
  heartbeatMs: number;
  shutdownDrainMs: number;
  maxJsonBodyBytes: number;
  maxRelayBodyBytes: number;
  /** What the chunked uploads being read whole before their upstream call may hold together (MAX_SPOOL_BYTES). */
  maxSpoolBytes: number;
  /** Express `trust proxy` value: which peers' `X-Forwarded-For` counts. */
  trustProxy: TrustProxySetting;
  upstream: UpstreamSettings;
  /**
   * Lower-case header names that carry keys besides the ones every service knows (each configured provider's
   * `key_header`, whatever it is called): their values are never logged.
   */
  secretHeaderNames?: readonly string[];
}

type CommonEnv = z.infer<z.ZodObject<typeof commonEnvShape>>;

/** A `TRUST_PROXY` value: `true`/`false`, a hop count, or a list of addresses/subnets (Express semantics). */
export type TrustProxySetting = boolean | number | string;

/**
 * The services' fallback behind the gateway: the direct peer's hop only (the entry the gateway adds to
 * `X-Forwarded-For`), never what that peer relays from further away, whatever network it is on.
 */
export const TRUST_DIRECT_PEER_HOP: TrustProxySetting = 1;

/** `TRUST_PROXY`: `true`/`false`, a hop count, or a list of addresses/subnets (Express semantics). */
export function parseTrustProxy(value: string | undefined, fallback: TrustProxySetting): TrustProxySetting {
  if (value === undefined || value === '') {
    return fallback;
  }
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === 'false') {
    return lower === 'true';
  }
  return /^\d+$/.test(value) ? Number(value) : value;
}

export function toPlatformSettings(
  serviceName: string,
  port: number,
  env: CommonEnv,
  trustProxyFallback: TrustProxySetting,
): PlatformSettings {
  return {
    serviceName,
    port,
    logLevel: env.LOG_LEVEL,
    heartbeatMs: env.STREAM_HEARTBEAT_MS,
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
    maxJsonBodyBytes: env.MAX_JSON_BODY_BYTES,
    maxRelayBodyBytes: env.MAX_RELAY_BODY_BYTES,
    maxSpoolBytes: env.MAX_SPOOL_BYTES,
    trustProxy: parseTrustProxy(env.TRUST_PROXY, trustProxyFallback),
    upstream: {
      connectTimeoutMs: env.UPSTREAM_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: env.UPSTREAM_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: env.UPSTREAM_IDLE_TIMEOUT_MS,
      egressProxy: env.HTTPS_PROXY ?? env.ALL_PROXY,
      noProxy: env.NO_PROXY,
      retry: {
        retries: env.UPSTREAM_RETRIES,
        budgetPercent: env.UPSTREAM_RETRY_BUDGET_PERCENT,
        breakerFailures: env.UPSTREAM_BREAKER_FAILURES,
        breakerOpenMs: env.UPSTREAM_BREAKER_OPEN_MS,
      },
    },
  };
}
