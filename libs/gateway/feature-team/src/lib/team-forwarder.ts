import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ClientAddressService } from '@openai-proxy/feature-platform';
import {
  RelayService,
  type RelayReport,
  type RelayTarget,
  type RelayWatcher,
  type ShapedCall,
  type ShapedCalls,
  type UpstreamHeaders,
  forwardedRequestHeaders,
} from '@openai-proxy/data-access-upstream';
import {
  DEFAULT_COMPLETION_RESERVE,
  type GatewayKeyRecord,
  type GrantedReservation,
  type LedgerEntry,
  type MeteredUsage,
  StreamUsageMeter,
  type WireDialect,
  completionAllowance,
  costUsd,
  estimatePromptTokens,
  isUsageOnlyChunk,
  meteredUsage,
  priceFor,
  usageFromJson,
} from '@openai-proxy/gateway-util-team';
import { type OutgoingHeaders, isAnthropicApiKey, isGoogleApiKey } from '@openai-proxy/util-auth-headers';
import { parseJsonText } from '@openai-proxy/util-errors';
import type { ModelPrice } from '@openai-proxy/util-config';
import { credentialHeaderNames, GATEWAY_KEY_HEADER } from './gateway-credential';
import { KeyRefusedError, type KeyLease, refusesKey } from './provider-key-pool';
import { ProviderKeys } from './provider-keys';
import { TeamLimits } from './team-limits';
import { TeamState } from './team-state';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';

/** A whole answer's JSON is read for its usage up to this size; a larger one is metered by estimate. */
const MAX_METERED_JSON_BYTES = 4 * 1024 * 1024;

/** An error event's data: OpenAI's (and Gemini's) `{"error": {…}}`, Anthropic's and the Responses API's `type: "error"`. */
const errorEventData = z.union([
  z.looseObject({ error: z.looseObject({}) }),
  z.looseObject({ type: z.literal('error') }),
]);

/**
 * Whether a stream event reports an error: the answer failed even when the stream then ends cleanly (our services
 * end a broken stream with an error frame and `[DONE]`, and providers send one for a mid-stream error).
 */
function isErrorEvent(event: { event?: string; data: string }): boolean {
  return event.event === 'error' || errorEventData.safeParse(parseJsonText(event.data)).success;
}

/** One request on its way to a service, as team mode shaped it. */
export interface TeamCall {
  target: RelayTarget;
  /** Path and query at the service. */
  path: string;
  /** The provider that serves it, for its key pool and the ledger. */
  provider: string;
  dialect: WireDialect;
  /** The route pattern, for the ledger. */
  route: string;
  modelRequested: string | null;
  modelServed: string | null;
  /** The body to send: read (and perhaps rewritten) whole, or the client's, streamed unchanged. */
  body: Buffer | 'client';
  /** The body as parsed, for estimates; undefined when it was streamed. */
  parsedBody: unknown;
  /** The client did not ask for usage on a stream we asked usage of: its usage-only chunk is kept from it. */
  hideUsageChunk: boolean;
  /** `attach`: the gateway's provider key replaces the client's credentials; `keep`: they pass as sent. */
  credentials: 'attach' | 'keep';
}

/** A whole body's first bytes, up to a bound: enough to read a JSON answer's usage. */
class BoundedBytes {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;

  push(chunk: Buffer): void {
    if (this.overflowed) {
      return;
    }
    this.size += chunk.length;
    if (this.size > MAX_METERED_JSON_BYTES) {
      this.overflowed = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(chunk);
  }

  json(): unknown {
    return this.overflowed || this.size === 0 ? undefined : parseJsonText(Buffer.concat(this.chunks).toString('utf8'));
  }
}

/** Seconds or an HTTP date in Retry-After, as milliseconds; undefined when absent or unreadable. */
function retryAfterMs(headers: UpstreamHeaders): number | undefined {
  const value = headers['retry-after'];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) {
    return undefined;
  }
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1000;
  }
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A source of calls that is told of each answer before the client sees it, and released when the relay ends. */
interface TeamCalls extends ShapedCalls {
  accept(status: number, headers: UpstreamHeaders): boolean;
  /** The relay ended: a lease no answer settled (no answer came, the client left first) counts as taken: nothing said the key was refused. */
  release(): void;
}

/**
 * One attempt per key of the provider's pool: a key the provider refuses (401, 429) rests and the next is tried;
 * a server error (5xx) rests its key too but is tried on one other key at most, so an outage does not cost one
 * attempt per key.
 */
class PooledCalls implements TeamCalls {
  private readonly tried = new Set<string>();
  private lease: KeyLease | undefined;
  private serverErrorRetried = false;

  constructor(
    private readonly keys: ProviderKeys,
    private readonly provider: string,
    private readonly build: (providerKey: string) => ShapedCall,
  ) {}

  next(): ShapedCall | undefined {
    this.lease = this.keys.lease(this.provider, this.tried);
    if (this.lease === undefined) {
      return undefined;
    }
    this.tried.add(this.lease.key);
    return this.build(this.lease.key);
  }

  accept(status: number, headers: UpstreamHeaders): boolean {
    const lease = this.lease;
    if (lease === undefined) {
      return true;
    }
    this.lease = undefined;
    if (!refusesKey(status)) {
      lease.succeeded();
      return true;
    }
    lease.refused(new KeyRefusedError(status, retryAfterMs(headers)));
    if (status >= 500) {
      if (this.serverErrorRetried) {
        return true;
      }
      this.serverErrorRetried = true;
    }
    return this.tried.size >= this.keys.poolSize(this.provider);
  }

  release(): void {
    this.lease?.succeeded();
    this.lease = undefined;
  }
}

/** The client's own credentials pass: one attempt, its answer taken. */
class SingleCall implements TeamCalls {
  private sent = false;

  constructor(private readonly call: ShapedCall) {}

  next(): ShapedCall | undefined {
    if (this.sent) {
      return undefined;
    }
    this.sent = true;
    return this.call;
  }

  accept(): boolean {
    return true;
  }

  release(): void {
    return undefined;
  }
}

/**
 * Forwards one team-mode request to its service with the shaped relay: the provider key the gateway holds in
 * place of the client's credentials (spread over the pool, failing over before the first byte), the limits
 * reserved before and settled after on the real usage, and one ledger row at the end with what the provider
 * reported (estimated only where it reported nothing, the row saying so). Without a gateway key (pass-through
 * routing by model) it forwards the shaped request and meters nothing.
 */
@Injectable()
export class TeamForwarder {
  private readonly logger = new Logger('TeamForwarder');

  constructor(
    private readonly relay: RelayService,
    private readonly addresses: ClientAddressService,
    private readonly state: TeamState,
    private readonly limits: TeamLimits,
    private readonly providerKeys: ProviderKeys,
    @Inject(TEAM_SETTINGS) private readonly settings: TeamSettings,
  ) {}

  async forward(
    request: IncomingMessage,
    response: ServerResponse,
    call: TeamCall,
    key: GatewayKeyRecord | undefined,
  ): Promise<void> {
    const headers = this.headersFor(request, call);
    const build = (providerKey: string | undefined): ShapedCall => ({
      path: call.path,
      headers: providerKey === undefined ? headers : { ...headers, ...credentialHeaders(call.dialect, providerKey) },
      body: call.body,
    });
    const calls: TeamCalls =
      call.credentials === 'attach'
        ? new PooledCalls(this.providerKeys, this.providersKeyCheck(call.provider), build)
        : new SingleCall(build(undefined));
    if (key === undefined) {
      await this.relay.relayShaped(request, response, call.target, calls, passThroughWatcher(calls));
      return;
    }
    const price = call.modelServed === null ? undefined : priceFor(call.modelServed, this.settings.prices);
    const promptEstimate = call.parsedBody === undefined ? 0 : estimatePromptTokens(call.dialect, call.parsedBody);
    const reservation = await this.limits.reserve(key, reservationAsk(call, promptEstimate, price), response);
    const meter = new StreamUsageMeter(call.dialect);
    const body = new BoundedBytes();
    const started = Date.now();
    let errorInStream = false;
    const watcher: RelayWatcher = {
      accept: (status, upstreamHeaders) => calls.accept(status, upstreamHeaders),
      onEvent: (event) => {
        meter.observe(event);
        errorInStream ||= isErrorEvent(event);
        return call.hideUsageChunk && isUsageOnlyChunk(event.data) ? 'drop' : 'keep';
      },
      onBytes: (chunk) => body.push(chunk),
      onEnd: (report) => {
        calls.release();
        const reported = meter.usage() ?? usageFromJson(call.dialect, body.json());
        const accepted = report.status !== undefined && report.status < 400;
        const usage = meteredUsage(reported, {
          promptTokens: accepted ? promptEstimate : 0,
          deliveredText: meter.deliveredText(),
        });
        const outcome = errorInStream && report.outcome === 'completed' ? 'failed' : report.outcome;
        this.settle(key, call, reservation, usage, price, { ...report, outcome }, Date.now() - started);
      },
    };
    await this.relay.relayShaped(request, response, withOwnRateLimits(call.target), calls, watcher);
  }

  /** The provider whose pool serves `provider`: refused with 503 when the gateway holds no key for it. */
  private providersKeyCheck(provider: string): string {
    this.providerKeys.requireKeys(provider);
    return provider;
  }

  /** The client's headers as the relay forwards them, its credentials removed when the gateway attaches its own. */
  private headersFor(request: IncomingMessage, call: TeamCall): OutgoingHeaders {
    const headers = forwardedRequestHeaders(request, call.target, this.addresses);
    const dropped =
      call.credentials === 'attach' ? credentialHeaderNames(this.providerKeys.keyHeaders()) : [GATEWAY_KEY_HEADER];
    for (const name of dropped) {
      delete headers[name];
    }
    return headers;
  }

  private settle(
    key: GatewayKeyRecord,
    call: TeamCall,
    reservation: GrantedReservation,
    usage: MeteredUsage,
    price: ModelPrice | undefined,
    report: RelayReport,
    latencyMs: number,
  ): void {
    const cost = costUsd(price, usage);
    this.limits.settle(reservation, usage.promptTokens + usage.completionTokens, cost);
    const entry: LedgerEntry = {
      ...usage,
      time: new Date(),
      keyId: key.id,
      provider: call.provider,
      modelRequested: call.modelRequested,
      modelServed: call.modelServed,
      route: call.route,
      costUsd: cost,
      latencyMs,
      firstTokenMs: report.firstByteMs ?? null,
      status: report.status ?? 499,
      outcome: report.outcome,
      clientAborted: report.clientLeft,
    };
    this.state.ledger.record(entry);
    if (report.outcome !== 'completed') {
      this.logger.debug(`${call.route} for ${key.id} ended ${report.outcome} (${entry.status})`);
    }
  }
}

/** What a reservation asks: the prompt estimate and the completion's allowance, and their price. */
function reservationAsk(
  call: TeamCall,
  promptEstimate: number,
  price: ModelPrice | undefined,
): { tokens: number; costUsd: number } {
  const allowance = completionAllowance(call.parsedBody) ?? DEFAULT_COMPLETION_RESERVE;
  const estimate: MeteredUsage = {
    promptTokens: promptEstimate,
    completionTokens: allowance,
    cachedPromptTokens: 0,
    reasoningTokens: 0,
    promptSource: 'estimated',
    completionSource: 'estimated',
  };
  return { tokens: promptEstimate + allowance, costUsd: costUsd(price, estimate) };
}

/**
 * How a held provider key travels: as the provider's own API expects it on its native path (Anthropic's
 * `x-api-key`, Gemini's `x-goog-api-key` for an API key), else as `Authorization: Bearer`, which our bridges and
 * the relay (a configured `key_header` included) take.
 */
export function credentialHeaders(dialect: WireDialect, key: string): OutgoingHeaders {
  if (dialect === 'anthropic' && isAnthropicApiKey(key)) {
    return { 'x-api-key': key };
  }
  if (dialect === 'gemini' && isGoogleApiKey(key)) {
    return { 'x-goog-api-key': key };
  }
  return { authorization: `Bearer ${key}` };
}

/** Pass-through: every event kept, nothing metered. */
function passThroughWatcher(calls: TeamCalls): RelayWatcher {
  return {
    readsEvents: false,
    accept: (status, headers) => calls.accept(status, headers),
    onEvent: () => 'keep',
    onBytes: () => undefined,
    onEnd: () => calls.release(),
  };
}

/**
 * The target with the provider's own `x-ratelimit-*` headers dropped: a gateway key's answer carries its own
 * limits (TeamLimits sets them), never the quota of the provider key behind it.
 */
function withOwnRateLimits(target: RelayTarget): RelayTarget {
  return { ...target, dropResponseHeaderPrefixes: [...target.dropResponseHeaderPrefixes, RATE_LIMIT_HEADER_PREFIX] };
}

const RATE_LIMIT_HEADER_PREFIX = 'x-ratelimit-';
