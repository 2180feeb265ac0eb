import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientAddressService, setEdgeHeader } from '@openai-proxy/feature-platform';
import {
  BODY_LENGTH_HEADERS,
  CALLER_RETRIES_HEADER,
  RelayService,
  type RelayReport,
  type RelayTarget,
  type RelayWatcher,
  type RetryReason,
  type ShapedCall,
  type ShapedCalls,
  type UpstreamHeaders,
  connectionFailure,
  forbidsResend,
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
  usageFromJsonText,
} from '@openai-proxy/gateway-util-team';
import { type OutgoingHeaders, isAnthropicApiKey, isGoogleApiKey } from '@openai-proxy/util-auth-headers';
import { ErrorCode, type GatewayException, parseJsonText } from '@openai-proxy/util-errors';
import type { ModelPrice } from '@openai-proxy/util-config';
import type { ProviderUsage } from '@openai-proxy/util-openai-schema';
import { PROMPT_USAGE_EVENT, PROMPT_USAGE_HEADER, decodePromptUsageEvent } from '@openai-proxy/util-sse';
import { credentialHeaderNames, GATEWAY_KEY_HEADER } from './gateway-credential';
import {
  KEY_REJECTED_STATUS,
  KeyRefusedError,
  type KeyLease,
  providerKeyRefused,
  refusesKey,
} from './provider-key-pool';
import { BRIDGED_PROVIDERS } from './provider-endpoints';
import { ProviderKeys } from './provider-keys';
import { jsonObject } from './shaped-body';
import { TeamLimits } from './team-limits';
import { TeamState } from './team-state';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';

/** A whole answer's JSON is read for its usage up to this size; a larger one is metered by estimate. */
const MAX_METERED_JSON_BYTES = 4 * 1024 * 1024;

/** The headers a request loses when its client's own credentials pass: the gateway key's. */
const GATEWAY_KEY_HEADERS: ReadonlySet<string> = new Set([GATEWAY_KEY_HEADER]);

/** The provider's own rate-limit headers, which a gateway key's answer never carries. */
const RATE_LIMIT_HEADER_PREFIX = 'x-ratelimit-';

/** The type of a body the gateway wrote as JSON. */
const JSON_CONTENT_TYPE = 'application/json';

/** The answer's header naming the provider and model the request went to last, as `<provider>/<model>`. */
const SERVED_MODEL_HEADER = 'x-openai-proxy-model';

/** One request on its way to a service, as team mode shaped it. */
export interface TeamCall {
  target: RelayTarget;
  /** Path and query at the service. */
  path: string;
  /** The provider that serves it, for its key pool and the ledger. */
  provider: string;
  dialect: WireDialect;
  /** The ledger row's route: the team route, or the path a native request called (ledgerRouteOf). */
  route: string;
  modelRequested: string | null;
  modelServed: string | null;
  /** The body to send: read (and perhaps rewritten) whole, or the client's, streamed unchanged. */
  body: Buffer | 'client';
  /**
   * The body is JSON the gateway wrote from what it parsed (the `/v1` routes): it goes as `application/json`,
   * whatever type the client named (the routes read any body as JSON; providers refuse another type).
   */
  writtenJson: boolean;
  /** The body as parsed, for estimates; undefined when it was streamed. */
  parsedBody: unknown;
  /** The client did not ask for usage on a stream we asked usage of: its usage-only chunk is kept from it. */
  hideUsageChunk: boolean;
  /** `attach`: the gateway's provider key replaces the client's credentials; `keep`: they pass as sent. */
  credentials: 'attach' | 'keep';
}

/**
 * The models a request falls back to (V1Routes: the route's `fallbacks`, resolved, those the gateway key may not
 * use left out): their calls in order, each shaped from the original body only when it is needed, and the models
 * they are sent upstream as, known at once, so the reservation can be made at the dearest price of them all.
 */
export interface ModelFallbacks {
  calls: Iterator<TeamCall, void, undefined>;
  modelsServed: readonly string[];
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

  /** The bytes as UTF-8 text; undefined when there were none or more than the bound. */
  text(): string | undefined {
    if (this.overflowed || this.size === 0) {
      return undefined;
    }
    // One chunk (a small answer's usual) is read in place, not copied.
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    return whole.toString('utf8');
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
 * attempt per key. Moving to the next key is a retry of the relay's budget (RelayService.relayShaped). When the
 * gateway has somewhere else to go (another key, or a fallback model), each call tells the service that the
 * gateway fails over itself (CALLER_RETRIES_HEADER): the service answers a 429 or 5xx as it came instead of
 * retrying it on the same key, so one refusal costs one attempt; with one key and no fallback, the service
 * retries it. An answer that must not be sent again (a reset after the request went out) is the answer: it says
 * nothing of the key.
 */
class PooledCalls implements TeamCalls {
  private readonly tried = new Set<string>();
  private readonly callerRetries: boolean;
  private lease: KeyLease | undefined;
  /** The key of the last call made: the one the answer came from, and must not show. */
  private lastKey: string | undefined;
  private serverErrorRetried = false;
  /**
   * The credential headers the first attempt wrote into the shaped headers (which are this request's own
   * copy): a later attempt copies them without these and adds its own key's.
   */
  private firstCredentialNames: readonly string[] | undefined;

  /**
   * `shaped` is the call without credentials; each attempt adds its key's, as `dialect` carries them.
   * `hasFallbacks`: the request has models to fall back to after this one.
   */
  constructor(
    private readonly keys: ProviderKeys,
    private readonly provider: string,
    private readonly shaped: ShapedCall,
    private readonly dialect: WireDialect,
    hasFallbacks: boolean,
  ) {
    this.callerRetries = hasFallbacks || keys.poolSize(provider) > 1;
  }

  next(): ShapedCall | undefined {
    this.lease = this.keys.lease(this.provider, this.tried);
    if (this.lease === undefined) {
      return undefined;
    }
    this.tried.add(this.lease.key);
    this.lastKey = this.lease.key;
    const credentials = credentialHeaders(this.dialect, this.lease.key);
    let headers: OutgoingHeaders;
    if (this.firstCredentialNames === undefined) {
      headers = this.shaped.headers;
      this.firstCredentialNames = Object.keys(credentials);
    } else {
      headers = withoutHeaders(this.shaped.headers, this.firstCredentialNames);
    }
    for (const name of Object.keys(credentials)) {
      headers[name] = credentials[name];
    }
    if (this.callerRetries) {
      headers[CALLER_RETRIES_HEADER] = 'keys';
    }
    return { ...this.shaped, headers };
  }

  accept(status: number, headers: UpstreamHeaders): boolean {
    const lease = this.lease;
    if (lease === undefined) {
      return true;
    }
    this.lease = undefined;
    if (!refusesKey(status) || forbidsResend(headers)) {
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

  /** A 401 refused the key the gateway holds: the provider's body (which may quote that key) is not the client's. */
  answerInstead(status: number): GatewayException | undefined {
    return status === KEY_REJECTED_STATUS ? providerKeyRefused(this.provider) : undefined;
  }

  heldSecrets(): readonly string[] {
    return this.lastKey === undefined ? [] : [this.lastKey];
  }
}

/** A copy of `headers` without the headers named in `names` (lowercase, as the shaped headers are). */
function withoutHeaders(headers: OutgoingHeaders, names: readonly string[]): OutgoingHeaders {
  const copy: OutgoingHeaders = {};
  for (const name of Object.keys(headers)) {
    if (!names.includes(name)) {
      copy[name] = headers[name];
    }
  }
  return copy;
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

/** One model's attempts: the model's call and its provider's key pool. */
interface ModelCalls {
  call: TeamCall;
  calls: PooledCalls;
}

/**
 * True when a call that got no answer may move on to a fallback: a connection error (refused, reset, out of
 * reach, a connect timeout) or an upstream that is unavailable (its circuit open). Never a timeout waiting for
 * the answer: the provider may be working on it. (Nor a reset after the request went out: the relay never asks
 * about an error marked NOT_RESENDABLE_HEADER.)
 */
function failsOver(error: GatewayException): boolean {
  return error.code === ErrorCode.UpstreamUnavailable || connectionFailure(error) !== undefined;
}

/**
 * A request's attempts over its model and the models it falls back to, before anything went to the client: each
 * model's key pool first (PooledCalls); when the pool's last answer is still a refusal (401, 429, 5xx), or a call
 * got no answer (failsOver), the next fallback the gateway holds keys for takes over, its call going to its own
 * service, as a first attempt there (never refused by the failed upstream's retry budget; when that budget
 * refuses another key of this model, the fallback comes instead). A fallback of the same provider goes to the
 * same upstream: that is a retry there, paid from its budget (nextSharesUpstream). Any other answer (400, 403,
 * 404, 413…) is the answer. `serving` is told of each model as it becomes the one tried.
 */
class FallbackCalls implements TeamCalls {
  private pending: ModelCalls | undefined;

  constructor(
    private current: ModelCalls,
    private readonly fallbacks: Iterator<TeamCall, void, undefined>,
    private readonly open: (call: TeamCall) => ModelCalls | undefined,
    private readonly serving: (call: TeamCall) => void,
  ) {}

  /** The model of the last call made: the one whose answer (or failure) the client gets. */
  served(): TeamCall {
    return this.current.call;
  }

  next(): ShapedCall | undefined {
    const pending = this.pending;
    if (pending === undefined) {
      return this.current.calls.next();
    }
    this.pending = undefined;
    const call = pending.calls.next();
    if (call !== undefined) {
      this.current.calls.release();
      this.current = pending;
      this.serving(pending.call);
    }
    return call;
  }

  accept(status: number, headers: UpstreamHeaders): boolean {
    if (!this.current.calls.accept(status, headers)) {
      return false;
    }
    if (!refusesKey(status)) {
      return true;
    }
    this.pending = this.nextModel();
    return this.pending === undefined;
  }

  failed(error: GatewayException): boolean {
    if (!failsOver(error)) {
      return false;
    }
    this.pending = this.nextModel();
    return this.pending !== undefined;
  }

  nextReason(): RetryReason {
    return this.pending === undefined ? 'key_failover' : 'model_fallback';
  }

  nextSharesUpstream(): boolean {
    return this.pending?.call.provider === this.current.call.provider;
  }

  /** The budget refused another key of this model: its next fallback comes instead, when there is one. */
  skipToFallback(): boolean {
    this.pending = this.nextModel();
    return this.pending !== undefined;
  }

  release(): void {
    this.current.calls.release();
  }

  answerInstead(status: number): GatewayException | undefined {
    return this.current.calls.answerInstead(status);
  }

  heldSecrets(): readonly string[] {
    return this.current.calls.heldSecrets();
  }

  /** The next fallback that can be tried; undefined when none is left. */
  private nextModel(): ModelCalls | undefined {
    for (let step = this.fallbacks.next(); step.done !== true; step = this.fallbacks.next()) {
      const opened = this.open(step.value);
      if (opened !== undefined) {
        return opened;
      }
    }
    return undefined;
  }
}

/**
 * Whether a metered call asks its service for the prompt's counts early (PROMPT_USAGE_HEADER): a chat stream to
 * a translating bridge, which sends what Anthropic or Gemini reported of the prompt before the answer. Only the
 * bridges are asked, and only their event is read, so no other upstream's stream can stand in for them.
 */
function asksPromptUsage(call: TeamCall): boolean {
  return (
    call.dialect === 'openai' &&
    BRIDGED_PROVIDERS.has(call.provider) &&
    jsonObject(call.parsedBody)?.['stream'] === true
  );
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
    /** The call whose answer this is (a fallback's, once one served). */
    private readonly served: () => TeamCall,
  ) {
    this.meter = new StreamUsageMeter(call.dialect);
  }

  accept(status: number, headers: UpstreamHeaders): boolean {
    return this.calls.accept(status, headers);
  }

  onEvent(event: StreamEvent): 'keep' | 'drop' {
    const data = parseJsonText(event.data);
    if (event.event === PROMPT_USAGE_EVENT) {
      // Ours whichever upstream sent it: never the client's; read only from a bridge that was asked for it.
      if (asksPromptUsage(this.served())) {
        this.meter.observePromptUsage(decodePromptUsageEvent(data));
      }
      return 'drop';
    }
    this.meter.observe(data);
    this.errorInStream ||= event.event === 'error' || isErrorEventData(data);
    return this.call.hideUsageChunk && isUsageOnlyChunk(data) ? 'drop' : 'keep';
  }

  onBytes(chunk: Buffer): void {
    this.body.push(chunk);
  }

  onEnd(report: RelayReport): void {
    this.calls.release();
    const reported = this.meter.usage() ?? this.answerUsage();
    const accepted = report.status !== undefined && report.status < 400;
    const usage = meteredUsage(reported, {
      promptTokens: accepted ? this.promptEstimate : 0,
      deliveredText: this.meter.deliveredText(),
    });
    const failed = this.errorInStream && report.outcome === 'completed';
    this.settle(usage, failed ? { ...report, outcome: 'failed' } : report, Date.now() - this.started);
  }

  /** The usage a whole (not streamed) answer's body reports; undefined without one. */
  private answerUsage(): ProviderUsage | undefined {
    const text = this.body.text();
    return text === undefined ? undefined : usageFromJsonText(this.call.dialect, text);
  }
}

/**
 * Forwards one team-mode request to its service with the shaped relay: the provider key the gateway holds in
 * place of the client's credentials (spread over the pool, failing over before the first byte, then to the
 * route's fallback models), the limits reserved before and settled after on the real usage, and one ledger row at
 * the end with what the provider reported (estimated only where it reported nothing, the row saying so) and the
 * model that served. Without a gateway key (pass-through routing by model) it forwards the shaped request and
 * meters nothing.
 */
@Injectable()
export class TeamForwarder {
  private readonly logger = new Logger('TeamForwarder');
  private readonly prices: PriceBook;
  /**
   * The headers a request loses on its way: its credentials when the gateway attaches its own provider key (else
   * the gateway key's header only), and its body framing when the body is sent whole ([credentials][whole]).
   */
  private readonly droppedHeaders: Record<TeamCall['credentials'], Record<'whole' | 'streamed', ReadonlySet<string>>>;
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
    const attached = credentialHeaderNames(providerKeys.keyHeaders());
    this.droppedHeaders = {
      attach: { whole: new Set([...attached, ...BODY_LENGTH_HEADERS]), streamed: new Set(attached) },
      keep: { whole: new Set([...GATEWAY_KEY_HEADERS, ...BODY_LENGTH_HEADERS]), streamed: GATEWAY_KEY_HEADERS },
    };
  }

  /**
   * Forwards `call`; with `fallbacks` (a call whose provider key the gateway attaches), a call that fails before
   * the first byte moves on to the next of them (FallbackCalls), and the ledger names the model that served.
   */
  async forward(
    request: IncomingMessage,
    response: ServerResponse,
    call: TeamCall,
    key: GatewayKeyRecord | undefined,
    fallbacks?: ModelFallbacks,
  ): Promise<void> {
    const metered = key !== undefined;
    const own = this.callsOf(request, call, fallbacks !== undefined, metered);
    const fallback =
      fallbacks === undefined || !(own instanceof PooledCalls)
        ? undefined
        : new FallbackCalls(
            { call, calls: own },
            fallbacks.calls,
            (next) => this.fallbackCalls(request, next, metered),
            (next) => this.announceModel(response, next),
          );
    const calls = fallback ?? own;
    if (key === undefined) {
      this.announceModel(response, call);
      await this.relay.relayShaped(request, response, call.target, calls, new PassThroughWatcher(calls));
      return;
    }
    const price = this.priceOf(call);
    const promptEstimate = call.parsedBody === undefined ? 0 : estimatePromptTokens(call.dialect, call.parsedBody);
    const prices =
      fallbacks === undefined
        ? [price]
        : [price, ...fallbacks.modelsServed.map((model) => this.prices.priceFor(model))];
    const reservation = await this.limits.reserve(key, reservationAsk(call, promptEstimate, prices), response);
    const served = (): TeamCall => fallback?.served() ?? call;
    const watcher = new MeteredWatcher(
      calls,
      call,
      promptEstimate,
      (usage, report, latencyMs) => {
        const servedCall = served();
        const servedPrice = servedCall === call ? price : this.priceOf(servedCall);
        this.settle(key, servedCall, reservation, usage, servedPrice, report, latencyMs);
      },
      served,
    );
    this.announceModel(response, call);
    await this.relay.relayShaped(request, response, this.targetOf(call, metered), calls, watcher);
  }

  /**
   * The call's attempts: its provider's pool when the gateway attaches its key, else the one call as sent.
   * `hasFallbacks`: the request has models to fall back to; `metered`: its usage goes to the ledger.
   */
  private callsOf(request: IncomingMessage, call: TeamCall, hasFallbacks: boolean, metered: boolean): TeamCalls {
    const shaped: ShapedCall = { path: call.path, headers: this.headersFor(request, call, metered), body: call.body };
    return call.credentials === 'attach'
      ? new PooledCalls(this.providerKeys, this.providersKeyCheck(call.provider), shaped, call.dialect, hasFallbacks)
      : new SingleCall(shaped);
  }

  /** The price of the model the call is sent upstream as; undefined when unpriced or unnamed. */
  private priceOf(call: TeamCall): ModelPrice | undefined {
    return call.modelServed === null ? undefined : this.prices.priceFor(call.modelServed);
  }

  /** A fallback's attempts, going to its own service; undefined when the gateway holds no key for its provider. */
  private fallbackCalls(request: IncomingMessage, call: TeamCall, metered: boolean): ModelCalls | undefined {
    if (this.providerKeys.poolSize(call.provider) === 0) {
      return undefined;
    }
    const shaped: ShapedCall = {
      path: call.path,
      headers: this.headersFor(request, call, metered),
      body: call.body,
      target: this.targetOf(call, metered),
    };
    return { call, calls: new PooledCalls(this.providerKeys, call.provider, shaped, call.dialect, true) };
  }

  /** The answer names the model the request goes to now (the last one tried is the one the client hears from). */
  private announceModel(response: ServerResponse, call: TeamCall): void {
    if (call.modelServed !== null) {
      setEdgeHeader(response, SERVED_MODEL_HEADER, `${call.provider}/${call.modelServed}`);
    }
  }

  /** Where a call goes: a metered call's service with the provider's own rate-limit headers dropped. */
  private targetOf(call: TeamCall, metered: boolean): RelayTarget {
    return metered ? this.withOwnRateLimits(call.target) : call.target;
  }

  /** The provider whose pool serves `provider`: refused with 503 when the gateway holds no key for it. */
  private providersKeyCheck(provider: string): string {
    this.providerKeys.requireKeys(provider);
    return provider;
  }

  /**
   * The client's headers as the relay forwards them: its credentials removed when the gateway attaches its own,
   * and, for a body sent whole, its framing (so the relay need not copy them again to drop it). A `metered` stream
   * to a bridge asks for the prompt's counts early (asksPromptUsage).
   */
  private headersFor(request: IncomingMessage, call: TeamCall, metered: boolean): OutgoingHeaders {
    const names = this.droppedHeaders[call.credentials][call.body === 'client' ? 'streamed' : 'whole'];
    const headers = forwardedRequestHeaders(request, call.target, this.addresses, { names });
    if (call.writtenJson) {
      headers['content-type'] = JSON_CONTENT_TYPE;
    }
    if (metered && asksPromptUsage(call)) {
      headers[PROMPT_USAGE_HEADER] = '1';
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

  /**
   * Settles the reservation at `price`, that of `served` (the model the client's answer came from), and records
   * the ledger row naming that model and its provider.
   */
  private settle(
    key: GatewayKeyRecord,
    served: TeamCall,
    reservation: GrantedReservation,
    usage: MeteredUsage,
    price: ModelPrice | undefined,
    report: RelayReport,
    latencyMs: number,
  ): void {
    const cost = costUsd(price, usage);
    this.limits.settle(reservation, usage.promptTokens + usage.completionTokens, cost);
    // Every field named, none spread: an object spread here made V8 build new hidden classes for each row, which
    // cost more than the rest of the settlement together (and made every read of the row slow).
    const entry: LedgerEntry = {
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      cachedPromptTokens: usage.cachedPromptTokens,
      cacheWritePromptTokens: usage.cacheWritePromptTokens,
      cacheWrite1hPromptTokens: usage.cacheWrite1hPromptTokens,
      reasoningTokens: usage.reasoningTokens,
      promptSource: usage.promptSource,
      completionSource: usage.completionSource,
      time: new Date(),
      keyId: key.id,
      provider: served.provider,
      modelRequested: served.modelRequested,
      modelServed: served.modelServed,
      route: served.route,
      costUsd: cost,
      latencyMs,
      firstTokenMs: report.firstByteMs ?? null,
      status: report.status ?? 499,
      outcome: report.outcome,
      clientAborted: report.clientLeft,
    };
    this.state.ledger.record(entry);
    if (report.outcome !== 'completed') {
      this.logger.debug(`${served.route} for ${key.id} ended ${report.outcome} (${entry.status})`);
    }
  }
}

/**
 * Whether a call may generate text, and so reserves a completion allowance when it names no maximum: a call with a
 * JSON body that is not an embedding. A call without one (a GET of models or files, a cancel) and an embedding
 * produce no completion tokens: they reserve only their prompt, so a small `tpm` never refuses them as too large.
 */
function generatesText(call: TeamCall): boolean {
  return call.parsedBody !== undefined && !call.route.endsWith('/embeddings');
}

/**
 * What a reservation asks: the prompt estimate and the completion's allowance, and their price at the dearest of
 * `prices` (the model asked for and those it may fall back to: whichever serves, the budget holds).
 */
function reservationAsk(
  call: TeamCall,
  promptEstimate: number,
  prices: readonly (ModelPrice | undefined)[],
): { tokens: number; costUsd: number } {
  const allowance = completionAllowance(call.parsedBody) ?? (generatesText(call) ? DEFAULT_COMPLETION_RESERVE : 0);
  const estimate: MeteredUsage = {
    promptTokens: promptEstimate,
    completionTokens: allowance,
    cachedPromptTokens: 0,
    cacheWritePromptTokens: 0,
    cacheWrite1hPromptTokens: 0,
    reasoningTokens: 0,
    promptSource: 'estimated',
    completionSource: 'estimated',
  };
  let dearest = 0;
  for (const price of prices) {
    dearest = Math.max(dearest, costUsd(price, estimate));
  }
  return { tokens: promptEstimate + allowance, costUsd: dearest };
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
