import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DeclaredMethod,
  readLimitedBody,
  type RouteSink,
  registerDeclaredRoutes,
} from '@openai-proxy/data-access-upstream';
import { ModelRouter, type ResolvedModel } from '@openai-proxy/gateway-util-team';
import { ErrorCode, GatewayException, invalidParam, parseJsonText } from '@openai-proxy/util-errors';
import { BRIDGED_PROVIDERS, type ProviderEndpoint, ProviderEndpoints } from './provider-endpoints';
import { jsonObject, withStreamUsage } from './shaped-body';
import { TeamAccess } from './team-access';
import { type AdmittedKey, TeamGate } from './team-gate';
import { type ModelFallbacks, type TeamCall, TeamForwarder } from './team-forwarder';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';

const TAG = 'team';

/** The team endpoint's operations that take a model: where each goes at the provider's OpenAI-format endpoint. */
interface ModelOperation {
  path: string;
  upstreamPath: string;
  summary: string;
  /** Providers whose OpenAI-format endpoint has no such operation (the bridges translate chat only). */
  chatOnly: boolean;
}

const OPERATIONS: readonly ModelOperation[] = [
  {
    path: '/v1/chat/completions',
    upstreamPath: '/chat/completions',
    summary: 'Chat completion routed by model to its provider (gpt-*, claude-*, gemini-*, <name>/<model>, aliases)',
    chatOnly: false,
  },
  {
    path: '/v1/embeddings',
    upstreamPath: '/embeddings',
    summary: 'Embeddings routed by model (OpenAI and OpenAI-compatible providers)',
    chatOnly: true,
  },
];

/**
 * The body's model name, as OpenAI reads it: a missing (or null, or empty) model is a 400 "model is required", any
 * other value that is not a string a 400 "model must be a string", both naming `model`.
 */
function requestedModel(body: Record<string, unknown>): string {
  const model = body['model'];
  if (model === undefined || model === null || model === '') {
    throw invalidParam('model is required', 'model');
  }
  if (typeof model !== 'string') {
    throw invalidParam('model must be a string', 'model');
  }
  return model;
}

/** The 404 for a model name no route knows. */
function modelNotFound(model: string): GatewayException {
  return new GatewayException(ErrorCode.ModelNotFound, `The model ${model} does not exist on this gateway`, {
    param: 'model',
  });
}

/**
 * The team endpoint (`POST /v1/chat/completions`, `POST /v1/embeddings`): routed by model over the routing
 * table (README "Routing by model"). With a gateway key the gateway attaches its provider key, limits and meters
 * the call; without one (`GATEWAY_KEYS=off` or `optional`) the client's own key goes to the provider the model
 * names, unmetered.
 */
@Injectable()
export class V1Routes {
  private readonly router: ModelRouter;

  constructor(
    private readonly gate: TeamGate,
    private readonly forwarder: TeamForwarder,
    private readonly endpoints: ProviderEndpoints,
    private readonly access: TeamAccess,
    @Inject(TEAM_SETTINGS) private readonly settings: TeamSettings,
  ) {
    this.router = new ModelRouter({ compatibleProviders: settings.compatibleProviders, models: settings.models });
  }

  /** Where a model goes; also for /v1/models. */
  resolve(model: unknown): ResolvedModel | undefined {
    return this.router.resolve(model);
  }

  modelRouter(): ModelRouter {
    return this.router;
  }

  register(sink: RouteSink): void {
    const methods = OPERATIONS.map((operation): DeclaredMethod => ({
      method: 'POST',
      path: operation.path,
      summary: operation.summary,
      tag: TAG,
      security: 'gateway-key',
      serve: (request, response) => this.serve(request, response, operation),
    }));
    registerDeclaredRoutes(sink, methods);
  }

  private async serve(request: IncomingMessage, response: ServerResponse, operation: ModelOperation): Promise<void> {
    const url = request.url ?? operation.path;
    const admitted = await this.gate.admit(request, url);
    const bytes = await readLimitedBody(request, this.settings.maxJsonBodyBytes);
    const body = jsonObject(parseJsonText(bytes.toString('utf8')));
    if (body === undefined) {
      throw new GatewayException(ErrorCode.InvalidRequest, 'Request body must be a JSON object');
    }
    const model = requestedModel(body);
    const resolved = this.resolve(model);
    const endpoint = resolved === undefined ? undefined : this.endpoints.of(resolved.provider);
    if (resolved === undefined || endpoint === undefined) {
      throw modelNotFound(model);
    }
    if (!servesOperation(operation, resolved)) {
      throw new GatewayException(
        ErrorCode.InvalidRequest,
        `${resolved.provider} models have no ${operation.path} on this gateway`,
        { param: 'model' },
      );
    }
    if (admitted !== undefined) {
      this.access.checkModel(admitted.record, resolved.requested, resolved.upstreamModel);
    }
    const asked: ModelRequest = { operation, body, admitted, requested: resolved.requested };
    const fallbacks = resolved.fallbacks.length === 0 ? undefined : this.modelFallbacks(asked, resolved.fallbacks);
    await this.forwarder.forward(request, response, teamCall(asked, resolved, endpoint), admitted?.record, fallbacks);
  }

  /**
   * The models a route falls back to, in order, each resolved again through the router (its provider, model and
   * service); a model that has no route, that cannot serve the operation, or that the gateway key may not use is
   * left out, never tried. Each call is shaped from the original body only when the forwarder gets to it. A
   * fallback's own fallbacks are not followed.
   */
  private modelFallbacks(request: ModelRequest, names: readonly string[]): ModelFallbacks {
    const usable = names.flatMap((name) => {
      const fallback = this.usableFallback(request, name);
      return fallback === undefined ? [] : [fallback];
    });
    return {
      calls: shapedCalls(request, usable),
      modelsServed: usable.map(({ resolved }) => resolved.upstreamModel),
    };
  }

  /** Where the fallback `name` goes, when it can take this request; undefined when it is left out. */
  private usableFallback(request: ModelRequest, name: string): UsableFallback | undefined {
    const resolved = this.resolve(name);
    const endpoint = resolved === undefined ? undefined : this.endpoints.of(resolved.provider);
    if (
      resolved === undefined ||
      endpoint === undefined ||
      !servesOperation(request.operation, resolved) ||
      (request.admitted !== undefined &&
        !this.access.mayUse(request.admitted.record, resolved.requested, resolved.upstreamModel))
    ) {
      return undefined;
    }
    return { resolved, endpoint };
  }
}

/** One request to the team endpoint, as read: what every model it may go to is shaped from. */
interface ModelRequest {
  operation: ModelOperation;
  /** The client's body, as parsed. */
  body: Record<string, unknown>;
  admitted: AdmittedKey | undefined;
  /** The model the client asked for (an alias stays an alias), for the ledger. */
  requested: string;
}

/** Where a fallback goes: its route and its provider's endpoint. */
interface UsableFallback {
  resolved: ResolvedModel;
  endpoint: ProviderEndpoint;
}

/** The fallbacks' calls, in order, each shaped only when it is asked for. */
function* shapedCalls(
  request: ModelRequest,
  fallbacks: readonly UsableFallback[],
): Generator<TeamCall, void, undefined> {
  for (const { resolved, endpoint } of fallbacks) {
    yield teamCall(request, resolved, endpoint);
  }
}

/** False when `resolved` goes to a bridge and the operation is not chat (the bridges translate chat only). */
function servesOperation(operation: ModelOperation, resolved: ResolvedModel): boolean {
  return !(operation.chatOnly && BRIDGED_PROVIDERS.has(resolved.provider));
}

/**
 * The call that sends `request` to `resolved` at `endpoint`: the original body with the model renamed, and a
 * metered stream asked for its usage.
 */
function teamCall(request: ModelRequest, resolved: ResolvedModel, endpoint: ProviderEndpoint): TeamCall {
  const { operation, admitted } = request;
  const renamed = { ...request.body, model: resolved.upstreamModel };
  const shaped =
    admitted !== undefined && operation.upstreamPath === '/chat/completions'
      ? withStreamUsage(renamed)
      : { body: renamed, hidden: false };
  return {
    target: endpoint.target,
    path: `${endpoint.basePath}${operation.upstreamPath}`,
    provider: resolved.provider,
    dialect: 'openai',
    route: operation.path,
    modelRequested: request.requested,
    modelServed: resolved.upstreamModel,
    body: Buffer.from(JSON.stringify(shaped.body)),
    writtenJson: true,
    parsedBody: shaped.body,
    hideUsageChunk: shaped.hidden,
    credentials: admitted === undefined || admitted.credential.use === 'identify' ? 'keep' : 'attach',
  };
}
