import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientAddressService } from '@openai-proxy/feature-platform';
import {
  CALLER_RETRIES_HEADER,
  RelayService,
  type RelayReport,
  type RelayTarget,
  type RelayWatcher,
  type ShapedCall,
  type ShapedCalls,
  type UpstreamHeaders,
  forwardedRequestHeaders,
  retryAfterMs,
} from '@openai-proxy/data-access-upstream';
import {
  DEFAULT_COMPLETION_RESERVE,
  type GatewayKeyRecord,
  type GrantedReservation,
  type LedgerEntry,
  type MeteredUsage,
  PriceBook,
  type StreamEvent,
  StreamUsageMeter,
  type WireDialect,
  completionAllowance,
  costUsd,
  estimatePromptTokens,
  isErrorEventData,
  isUsageOnlyChunk,
  meteredUsage,
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

/** The headers a request loses when its client's own credentials pass: the gateway key's. */
const GATEWAY_KEY_HEADERS: readonly string[] = [GATEWAY_KEY_HEADER];

/** The provider's own rate-limit headers, which a gateway key's answer never carries. */
const RATE_LIMIT_HEADER_PREFIX = 'x-ratelimit-';

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
    if (this.overflowed || this.size === 0) {
      return undefined;
    }
    // One chunk (a small answer's usual) is read in place, not copied.
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    return parseJsonText(whole.toString('utf8'));
  }
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
 * attempt per key. Moving to the next key is a retry of the relay's budget (RelayService.relayShaped), and each
 * call tells the service that the gateway fails over itself (CALLER_RETRIES_HEADER): the service answers a 429
 * or 5xx as it came instead of retrying it on the same key, so one refusal costs one attempt.
 */
class PooledCalls implements TeamCalls {
  private readonly tried = new Set<string>();
  private lease: KeyLease | undefined;
  private serverErrorRetried = false;

  /** `shaped` is the call without credentials; each attempt adds its key's, as `dialect` carries them. */
  constructor(
    private readonly keys: ProviderKeys,
    private readonly provider: string,
    private readonly shaped: ShapedCall,
    private readonly dialect: WireDialect,
  ) {}

  next(): ShapedCall | undefined {
    this.lease = this.keys.lease(this.provider, this.tried);
    if (this.lease === undefined) {
      return undefined;
    }
    this.tried.add(this.lease.key);
    return {
      ...this.shaped,
      headers: {
        ...this.shaped.headers,
        ...credentialHeaders(this.dialect, this.lease.key),
        [CALLER_RETRIES_HEADER]: 'keys',
      },
    };
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
    lease.refused(new KeyRefusedError(status, retryAfterMs(headers['retry-after'])));
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

/** Pass-through: every event kept, nothing metered. */
class PassThroughWatcher implements RelayWatcher {
  readonly readsEvents = false;

  constructor(private readonly calls: TeamCalls) {}

  accept(status: number, headers: UpstreamHeaders): boolean {
    return this.calls.accept(status, headers);
  }

  onEvent(): 'keep' {
    return 'keep';
  }

  onBytes(): void {
    return undefined;
  }

  onEnd(): void {
    this.calls.release();
  }
}

/** What a metered answer comes to, for its settlement: its usage, how it ended, and how long it took. */
type Settle = (usage: MeteredUsage, report: RelayReport, latencyMs: number) => void;

/**
 * Meters one answer as it passes: the usage its stream or its whole JSON body reports (estimated where it
 * reports none), whether an error event came in a stream that then ended cleanly (the answer failed), and the
 * usage-only chunk kept from a client that did not ask for it; at the end, `settle` gets the usage.
 */
class MeteredWatcher implements RelayWatcher {
  private readonly meter: StreamUsageMeter;
  private readonly body = new BoundedBytes();
  private readonly started = Date.now();
  private errorInStream = false;

  constructor(
    private readonly calls: TeamCalls,
    private readonly call: TeamCall,
    private readonly promptEstimate: number,
    private readonly settle: Settle,
  ) {
    this.meter = new StreamUsageMeter(call.dialect);
  }

  accept(status: number, headers: UpstreamHeaders): boolean {
    return this.calls.accept(status, headers);
  }

  onEvent(event: StreamEvent): 'keep' | 'drop' {
    const data = parseJsonText(event.data);
    this.meter.observe(data);
    this.errorInStream ||= event.event === 'error' || isErrorEventData(data);
    return this.call.hideUsageChunk && isUsageOnlyChunk(data) ? 'drop' : 'keep';
  }

  onBytes(chunk: Buffer): void {
    this.body.push(chunk);
  }

  onEnd(report: RelayReport): void {
    this.calls.release();
    const reported = this.meter.usage() ?? usageFromJson(this.call.dialect, this.body.json());
    const accepted = report.status !== undefined && report.status < 400;
    const usage = meteredUsage(reported, {
      promptTokens: accepted ? this.promptEstimate : 0,
      deliveredText: this.meter.deliveredText(),
    });
    const failed = this.errorInStream && report.outcome === 'completed';
    this.settle(usage, failed ? { ...report, outcome: 'failed' } : report, Date.now() - this.started);
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
  private readonly prices: PriceBook;
  /** The credential headers a request loses when the gateway attaches its own provider key. */
  private readonly attachedCredentialHeaders: readonly string[];
  /** Each service's target with the provider's own rate-limit headers dropped, made at its first request. */
  private readonly ownRateLimitTargets = new WeakMap<RelayTarget, RelayTarget>();

  constructor(
    private readonly relay: RelayService,
    private readonly addresses: ClientAddressService,
    private readonly state: TeamState,
    private readonly limits: TeamLimits,
    private readonly providerKeys: ProviderKeys,
    @Inject(TEAM_SETTINGS) settings: TeamSettings,
  ) {
    this.prices = new PriceBook(settings.prices);
    this.attachedCredentialHeaders = credentialHeaderNames(providerKeys.keyHeaders());
  }

  async forward(
    request: IncomingMessage,
    response: ServerResponse,
    call: TeamCall,
    key: GatewayKeyRecord | undefined,
  ): Promise<void> {
    const shaped: ShapedCall = { path: call.path, headers: this.headersFor(request, call), body: call.body };
    const calls: TeamCalls =
      call.credentials === 'attach'
        ? new PooledCalls(this.providerKeys, this.providersKeyCheck(call.provider), shaped, call.dialect)
        : new SingleCall(shaped);
    if (key === undefined) {
      await this.relay.relayShaped(request, response, call.target, calls, new PassThroughWatcher(calls));
      return;
    }
    const price = call.modelServed === null ? undefined : this.prices.priceFor(call.modelServed);
    const promptEstimate = call.parsedBody === undefined ? 0 : estimatePromptTokens(call.dialect, call.parsedBody);
    const reservation = await this.limits.reserve(key, reservationAsk(call, promptEstimate, price), response);
    const watcher = new MeteredWatcher(calls, call, promptEstimate, (usage, report, latencyMs) =>
      this.settle(key, call, reservation, usage, price, report, latencyMs),
    );
    await this.relay.relayShaped(request, response, this.withOwnRateLimits(call.target), calls, watcher);
  }

  /** The provider whose pool serves `provider`: refused with 503 when the gateway holds no key for it. */
  private providersKeyCheck(provider: string): string {
    this.providerKeys.requireKeys(provider);
    return provider;
  }

  /** The client's headers as the relay forwards them, its credentials removed when the gateway attaches its own. */
  private headersFor(request: IncomingMessage, call: TeamCall): OutgoingHeaders {
    const headers = forwardedRequestHeaders(request, call.target, this.addresses);
    const dropped = call.credentials === 'attach' ? this.attachedCredentialHeaders : GATEWAY_KEY_HEADERS;
    for (const name of dropped) {
      delete headers[name];
    }
    return headers;
  }

  /**
   * The target with the provider's own `x-ratelimit-*` headers dropped: a gateway key's answer carries its own
   * limits (TeamLimits sets them), never the quota of the provider key behind it.
   */
  private withOwnRateLimits(target: RelayTarget): RelayTarget {
    let own = this.ownRateLimitTargets.get(target);
    if (own === undefined) {
      own = { ...target, dropResponseHeaderPrefixes: [...target.dropResponseHeaderPrefixes, RATE_LIMIT_HEADER_PREFIX] };
      this.ownRateLimitTargets.set(target, own);
    }
    return own;
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
