import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CallDeadline,
  RelayService,
  type RouteSink,
  UpstreamExchange,
  joinPath,
  readAnswerText,
  registerDeclaredRoutes,
  requestUpstream,
  sendJson,
} from '@openai-proxy/data-access-upstream';
import type { GatewayKeyRecord } from '@openai-proxy/gateway-util-team';
import { parseJsonText } from '@openai-proxy/util-errors';
import {
  type ProviderModels,
  modelListAnswerSchema,
  teamModelList,
  upstreamModelListSchema,
} from './models-route.list';
import { ProviderEndpoints } from './provider-endpoints';
import { ProviderKeys } from './provider-keys';
import { TeamGate } from './team-gate';
import { TeamLimits } from './team-limits';
import { jsonSchemaOf } from './usage-routes.schemas';
import { V1Routes } from './v1-routes';

/** How long one provider's model list may take; past it the provider is left out of the answer. */
export const MODEL_LIST_TIMEOUT_MS = 5_000;
/** The largest model list read from a provider (OpenRouter's, the longest known, is a few hundred KiB). */
const MAX_MODEL_LIST_BYTES = 8 * 1024 * 1024;
/** The provider whose relay answers `/v1/models` for a client that brings its own key. */
const PASS_THROUGH_PROVIDER = 'openai';
const PATH = '/v1/models';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The query string of a request's URL, with its `?`; empty when it has none. */
function searchOf(url: string): string {
  const start = url.indexOf('?');
  return start === -1 ? '' : url.slice(start);
}

/**
 * `GET /v1/models`, decided as follows (README "Routing by model").
 *
 * - With a gateway key: the models that key may use, in OpenAI's list shape. They are the config file's aliases
 *   and, for each provider the gateway holds keys for, that provider's own list, fetched through its service
 *   (`GET <its OpenAI-format path>/models`, e.g. `/openai/v1/models`, with a key from its pool, at most
 *   `MODEL_LIST_TIMEOUT_MS`) at each call, so the list is the providers' current one. A model is listed under the
 *   id that routes to it (`<name>/<id>` unless the routing table sends the bare id to that provider) and only when
 *   the key's `models` allow it. A provider that fails (an error status, a timeout, a list of the wrong shape) is
 *   left out and logged, and the others are still answered. A list call neither rests nor revives a pooled key
 *   (ProviderKeyPool.peek); its service retries its provider's 429 and 5xx, and this hop retries a connection
 *   failure (the service restarting), all within `MODEL_LIST_TIMEOUT_MS`.
 * - Without one (`GATEWAY_KEYS=off`, or `optional` and the client brings a provider key): relayed to the OpenAI
 *   relay's `/openai/v1/models` with the client's own key, answer unchanged, as `/openai/v1/models` would be.
 *
 * With a gateway key the listing counts as one request against the key's limits, as a WebSocket upgrade does
 * (it asks every provider for its list: not free to repeat without end), and carries its `x-ratelimit-*`
 * headers; it is not metered in tokens and writes no ledger row.
 */
@Injectable()
export class ModelsRoute {
  private readonly logger = new Logger('ModelsRoute');

  constructor(
    private readonly gate: TeamGate,
    private readonly relay: RelayService,
    private readonly endpoints: ProviderEndpoints,
    private readonly providerKeys: ProviderKeys,
    private readonly v1: V1Routes,
    private readonly limits: TeamLimits,
  ) {}

  register(sink: RouteSink): void {
    registerDeclaredRoutes(sink, [
      {
        method: 'GET',
        path: PATH,
        summary: 'The models this gateway key may use (aliases, then each provider the gateway holds keys for)',
        tag: 'team',
        security: 'gateway-key',
        responseSchema: jsonSchemaOf(modelListAnswerSchema),
        serve: (request, response) => this.serve(request, response),
      },
    ]);
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? PATH;
    const admitted = await this.gate.admit(request, url);
    if (admitted === undefined) {
      await this.passThrough(request, response, url);
      return;
    }
    const reservation = await this.limits.reserve(admitted.record, { tokens: 0, costUsd: 0 }, response);
    this.limits.settle(reservation, 0, 0);
    // A client that leaves ends the list calls made for it at once.
    const client = new UpstreamExchange(response);
    const models = await this.modelsFor(admitted.record, client);
    if (!client.clientLeft) {
      sendJson(response, models, {});
    }
  }

  private async passThrough(request: IncomingMessage, response: ServerResponse, url: string): Promise<void> {
    const endpoint = this.endpoints.of(PASS_THROUGH_PROVIDER);
    if (endpoint === undefined) {
      throw new Error(`no service serves ${PASS_THROUGH_PROVIDER}`);
    }
    await this.relay.relay(request, response, endpoint.target, `${endpoint.basePath}/models${searchOf(url)}`);
  }

  private async modelsFor(record: GatewayKeyRecord, client: UpstreamExchange): Promise<unknown> {
    const lists = await Promise.all(
      this.providerKeys.providers().map((provider) => this.providerModels(provider, client)),
    );
    const upstream = lists.filter((list): list is ProviderModels => list !== undefined);
    return teamModelList(this.v1.modelRouter(), record.models, upstream);
  }

  /**
   * One provider's own list through its service, with a pooled key; undefined (and logged) when it fails, and
   * when `client` left (not logged).
   */
  private async providerModels(provider: string, client: UpstreamExchange): Promise<ProviderModels | undefined> {
    const endpoint = this.endpoints.of(provider);
    // A list call neither rests nor revives a shared key: every member may ask for lists as often as they like.
    const key = this.providerKeys.peek(provider);
    if (endpoint === undefined || key === undefined) {
      return undefined;
    }
    const { target } = endpoint;
    const deadline = new CallDeadline(MODEL_LIST_TIMEOUT_MS, client.signal);
    try {
      // An internal hop: the service retries its provider's 429 and 5xx itself; a connection failure (the service
      // restarting) is retried here.
      const answer = await requestUpstream(
        target,
        {
          origin: target.origin,
          path: joinPath(target.basePath, `${endpoint.basePath}/models`),
          method: 'GET',
          headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
          signal: deadline.exchange,
        },
        'connection',
        deadline.exchange,
        true,
      );
      const text = await readAnswerText(answer.body, MAX_MODEL_LIST_BYTES);
      if (answer.statusCode !== 200) {
        this.logger.warn(`/v1/models: ${provider} left out, its model list answered ${answer.statusCode}`);
        return undefined;
      }
      const list = upstreamModelListSchema.safeParse(parseJsonText(text));
      if (!list.success) {
        this.logger.warn(`/v1/models: ${provider} left out, its model list is not OpenAI's list shape`);
        return undefined;
      }
      return { provider, models: list.data.data };
    } catch (error) {
      if (client.clientLeft) {
        return undefined;
      }
      const why = deadline.expired ? `took over ${MODEL_LIST_TIMEOUT_MS} ms` : `failed: ${describe(error)}`;
      this.logger.warn(`/v1/models: ${provider} left out, its model list ${why}`);
      return undefined;
    } finally {
      deadline.clear();
    }
  }
}
