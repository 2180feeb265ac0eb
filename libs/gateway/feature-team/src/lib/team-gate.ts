import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathnameOf } from '@openai-proxy/feature-platform';
import { RelayService, type RelayTarget, type UpgradeHooks } from '@openai-proxy/data-access-upstream';
import type { GatewayKeyRecord } from '@openai-proxy/gateway-util-team';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import {
  GATEWAY_KEY_HEADER,
  type RequestCredential,
  credentialHeaderNames,
  dropKeyProtocol,
  readRequestCredential,
  withoutQueryKey,
} from './gateway-credential';
import { type NativeRoute, geminiPathModel, ledgerRouteOf, nativeRouteOf } from './native-routes';
import {
  KEY_REJECTED_STATUS,
  KeyRefusedError,
  type KeyLease,
  providerKeyRefused,
  refusesKey,
} from './provider-key-pool';
import { ProviderKeys } from './provider-keys';
import { carriesNoBody, readShapedBody, withStreamUsage } from './shaped-body';
import { TeamAccess } from './team-access';
import { TeamForwarder, credentialHeaders } from './team-forwarder';
import { TeamLimits } from './team-limits';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';

/**
 * The model a native request names: Gemini's in its method path (`/models/<id>:…`), or in the body only on its
 * OpenAI-compatible paths (`/gemini/…/openai/…`); the others' in the JSON body's `model`.
 */
function requestModel(
  dialect: NativeRoute['dialect'],
  pathname: string,
  body: Record<string, unknown> | undefined,
): string | null {
  const named = dialect === 'gemini' && !pathname.includes('/openai/') ? geminiPathModel(pathname) : body?.['model'];
  return typeof named === 'string' && named !== '' ? named : null;
}

/** A request that carries a body (a bodiless POST, such as a cancel, names no model and needs none). */
function hasBody(request: IncomingMessage): boolean {
  if (carriesNoBody(request.method)) {
    return false;
  }
  const length = Number(request.headers['content-length'] ?? 0);
  return length > 0 || request.headers['transfer-encoding'] !== undefined;
}

function namesNoModel(): GatewayException {
  return new GatewayException(
    ErrorCode.ModelNotAllowed,
    'This gateway key may use only some models, and this request names none the gateway can read (send JSON with a "model")',
    { param: 'model' },
  );
}

/** The web-session routes take the member's own session: a gateway key standing in for it is refused. */
function refuseGatewayKeyForSession(admitted: AdmittedKey, native: NativeRoute): void {
  if (admitted.credential.use === 'attach' && !native.attachesKey) {
    throw new GatewayException(
      ErrorCode.InvalidApiKey,
      `The ${native.provider} routes use your own session: send the gateway key in X-Gateway-Key and your session as usual`,
    );
  }
}

/** The answer to a request without a gateway key where one is required. */
function gatewayKeyRequired(): GatewayException {
  return new GatewayException(
    ErrorCode.InvalidApiKey,
    'This gateway requires a gateway key: send Authorization: Bearer gk-… (provider keys are not accepted here)',
  );
}

/** An upgrade as the gate admitted it: the path and query to relay, and what to make of the upstream's answer. */
export interface AdmittedUpgrade {
  url: string;
  hooks: UpgradeHooks;
}

/** The client's own credential, or none the gateway lent: its upstream's answer is the client's. */
const NOTHING_HELD: UpgradeHooks = {};

/**
 * A held key's upgrade: the key rests when the provider refused it, a 401 is not the client's to see, and no
 * other refusal shows the key.
 */
function heldKeyHooks(lease: KeyLease, provider: string): UpgradeHooks {
  return {
    answered: (status) => {
      if (refusesKey(status)) {
        lease.refused(new KeyRefusedError(status, undefined));
      } else {
        lease.succeeded();
      }
      return status === KEY_REJECTED_STATUS ? providerKeyRefused(provider) : undefined;
    },
    heldSecrets: [lease.key],
  };
}

/** A gateway key's request as the gate admitted it. */
export interface AdmittedKey {
  record: GatewayKeyRecord;
  credential: Extract<RequestCredential, { kind: 'gateway' }>;
}

/**
 * Gateway keys on the native prefixes (`/openai/**`, `/anthropic/**`, `/gemini/**`, `/<name>/**`, `/claude/…`,
 * `/google/…`): with `GATEWAY_KEYS=optional` a request with a provider key (or none) passes as before; with
 * `required` it gets 401. A request with a gateway key is checked (key, model), limited, forwarded with the
 * provider key the gateway holds, and metered.
 */
@Injectable()
export class TeamGate {
  private readonly compatibleNames: readonly string[];

  constructor(
    private readonly relay: RelayService,
    private readonly access: TeamAccess,
    private readonly forwarder: TeamForwarder,
    private readonly limits: TeamLimits,
    private readonly providerKeys: ProviderKeys,
    @Inject(TEAM_SETTINGS) private readonly settings: TeamSettings,
  ) {
    this.compatibleNames = settings.compatibleProviders.map((provider) => provider.name);
  }

  /** The gateway key a request carries, checked: undefined for a request without one that may pass without. */
  async admit(request: IncomingMessage, url: string): Promise<AdmittedKey | undefined> {
    if (this.settings.mode === 'off') {
      return undefined;
    }
    const credential = readRequestCredential(request.headers, url, this.providerKeys.keyHeaders());
    if (credential.kind !== 'gateway') {
      if (this.settings.mode === 'required') {
        throw gatewayKeyRequired();
      }
      return undefined;
    }
    return { record: await this.access.authenticate(credential.key), credential };
  }

  /**
   * A WebSocket upgrade on a native prefix (the Realtime API): admitted like a request (401 without a gateway key
   * where one is required; the `?model=` checked against the key's list; one request counted against its rpm),
   * the held key put in place of the gateway key on the upgrade request itself. Sessions are not metered in
   * tokens. Resolves with the path and query to relay, and what to make of the upstream's answer: a held key the
   * provider refused rests, and its 401 is answered 502 `provider_key_refused` (as on HTTP routes).
   */
  async admitUpgrade(request: IncomingMessage, url: string): Promise<AdmittedUpgrade> {
    const admitted = await this.admit(request, url);
    if (admitted === undefined) {
      return { url, hooks: NOTHING_HELD };
    }
    const pathname = pathnameOf(url);
    const native = nativeRouteOf(pathname, this.compatibleNames);
    if (native !== undefined) {
      refuseGatewayKeyForSession(admitted, native);
    }
    const model = new URL(url, 'http://upgrade.invalid').searchParams.get('model');
    if (model !== null && model !== '') {
      this.access.checkModel(admitted.record, model);
    } else if (admitted.record.models.length > 0) {
      throw namesNoModel();
    }
    const reservation = await this.limits.reserve(admitted.record, { tokens: 0, costUsd: 0 }, undefined);
    this.limits.settle(reservation, 0, 0);
    if (native === undefined || admitted.credential.use !== 'attach' || !native.attachesKey) {
      delete request.headers[GATEWAY_KEY_HEADER];
      return { url, hooks: NOTHING_HELD };
    }
    this.providerKeys.requireKeys(native.provider);
    const lease = this.providerKeys.lease(native.provider, new Set());
    if (lease === undefined) {
      return { url, hooks: NOTHING_HELD };
    }
    for (const name of credentialHeaderNames(this.providerKeys.keyHeaders())) {
      delete request.headers[name];
    }
    dropKeyProtocol(request.headers);
    Object.assign(request.headers, credentialHeaders(native.dialect, lease.key));
    return { url: withoutQueryKey(url), hooks: heldKeyHooks(lease, native.provider) };
  }

  /**
   * A native-prefix request: passed through, or checked, limited, forwarded with our key and metered. Its ledger
   * row's route is the path it called (`/anthropic/v1/messages`), without the query (where Gemini's `key=` goes).
   */
  async forwardNative(
    request: IncomingMessage,
    response: ServerResponse,
    target: RelayTarget,
    url: string,
  ): Promise<void> {
    const admitted = await this.admit(request, url);
    if (admitted === undefined) {
      await this.relay.relay(request, response, target, url);
      return;
    }
    const pathname = pathnameOf(url);
    const native = nativeRouteOf(pathname, this.compatibleNames);
    if (native === undefined) {
      throw new GatewayException(ErrorCode.NotFound, 'Unknown route');
    }
    refuseGatewayKeyForSession(admitted, native);
    const body = await readShapedBody(request, this.settings.maxJsonBodyBytes);
    const value = body.kind === 'json' ? body.value : undefined;
    const model = requestModel(native.dialect, pathname, value);
    if (model !== null) {
      this.access.checkModel(admitted.record, model);
    } else if (admitted.record.models.length > 0 && hasBody(request)) {
      // A key limited to some models may still list, read, delete and cancel without naming one.
      throw namesNoModel();
    }
    const chat = native.dialect === 'openai' && value !== undefined && pathname.endsWith('/chat/completions');
    const shaped = chat ? withStreamUsage(value) : { body: value, hidden: false };
    const attach = admitted.credential.use === 'attach' && native.attachesKey;
    await this.forwarder.forward(
      request,
      response,
      {
        target,
        path: attach ? withoutQueryKey(url) : url,
        provider: native.provider,
        dialect: native.dialect,
        route: ledgerRouteOf(pathname),
        modelRequested: model,
        modelServed: model,
        body: body.kind === 'client' ? 'client' : shaped.hidden ? Buffer.from(JSON.stringify(shaped.body)) : body.bytes,
        // A native request's body is the client's (rewritten only when it was JSON), under the type it named.
        writtenJson: false,
        parsedBody: shaped.body,
        hideUsageChunk: shaped.hidden,
        credentials: attach ? 'attach' : 'keep',
      },
      admitted.record,
    );
  }
}
