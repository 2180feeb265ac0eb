import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  type JsonRoute,
  type JsonRouteAnswer,
  type JsonRouteContext,
  type RouteSink,
  registerJsonRoutes,
} from '@openai-proxy/data-access-upstream';
import {
  type GatewayKeyRecord,
  type InputProblem,
  budgetPeriodStart,
  createdKeyAnswer,
  keyAnswer,
  keyCreateSchema,
  keyListAnswer,
  keyPatchSchema,
  parseKeyCreate,
  parseKeyPatch,
  parseUsageQuery,
  usageAnswer,
} from '@openai-proxy/gateway-util-team';
import { readBearerToken } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { createdKeyAnswerSchema, gatewayKeyAnswerSchema, keyListAnswerSchema } from './admin-routes.schemas';
import { TeamAccess } from './team-access';
import { TeamState } from './team-state';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';
import { jsonSchemaOf, usageAnswerSchema } from './usage-routes.schemas';

const TAG = 'admin';
/** The query parameters of the usage routes. */
export const USAGE_QUERY_PARAMETERS: readonly string[] = ['start_date', 'end_date', 'group_by'];

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Whether `given` is the admin token whose SHA-256 is `expectedDigest`. The digests (always 32 bytes) are compared
 * with `timingSafeEqual`, so neither the token's length nor how much of it a guess got right shows in the time.
 */
export function adminTokenMatches(expectedDigest: Buffer, given: string | undefined): boolean {
  const matches = timingSafeEqual(sha256(given ?? ''), expectedDigest);
  return matches && given !== undefined;
}

/** 401 unless the request carries `Authorization: Bearer <the admin token>`. */
function requireAdminToken(headers: IncomingHttpHeaders, expectedDigest: Buffer): void {
  if (!adminTokenMatches(expectedDigest, readBearerToken(headers))) {
    throw new GatewayException(
      ErrorCode.InvalidApiKey,
      'The admin API needs the admin token: send Authorization: Bearer $GATEWAY_ADMIN_TOKEN',
    );
  }
}

/** A sink whose routes check the admin token first: before the body is read, before a method is refused. */
function adminOnly(sink: RouteSink, expectedDigest: Buffer): RouteSink {
  return {
    register: (route) =>
      sink.register({
        ...route,
        handle: async (request, response) => {
          requireAdminToken(request.headers, expectedDigest);
          await route.handle(request, response);
        },
      }),
  };
}

/** A refused admin or usage input as the 400 the client gets, naming the field. */
export function invalidInput(problem: InputProblem): GatewayException {
  return new GatewayException(ErrorCode.InvalidRequest, problem.message, { param: problem.param });
}

function keyNotFound(id: string): GatewayException {
  return new GatewayException(ErrorCode.NotFound, `No gateway key has the id ${id}`, { param: 'id' });
}

function pathId(context: JsonRouteContext): string {
  return context.params['id'] ?? '';
}

const ok = (body: unknown): JsonRouteAnswer => ({ status: 200, body });

/**
 * The admin API (README "Team gateway"): gateway keys (`/admin/keys`, `/admin/keys/:id`) and the whole team's
 * usage (`/admin/usage`), for `Authorization: Bearer $GATEWAY_ADMIN_TOKEN` only (401 `invalid_api_key` else).
 * Without `GATEWAY_ADMIN_TOKEN` nothing is registered, so every `/admin/*` path is an unknown route (404).
 * A key's secret appears once, in the 201 of its creation; every other answer shows its `key_prefix`.
 * A change or revocation holds at once on this replica (the key's cached record is dropped) and within one
 * second on every other.
 */
@Injectable()
export class AdminRoutes {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly state: TeamState,
    private readonly access: TeamAccess,
    @Inject(TEAM_SETTINGS) settings: TeamSettings,
  ) {
    this.tokenDigest = settings.adminToken === undefined ? undefined : sha256(settings.adminToken);
  }

  register(sink: RouteSink): void {
    if (this.tokenDigest === undefined) {
      return;
    }
    registerJsonRoutes(adminOnly(sink, this.tokenDigest), this.routes());
  }

  private routes(): JsonRoute[] {
    const key = jsonSchemaOf(gatewayKeyAnswerSchema);
    const common = { tag: TAG, security: 'admin-token' } as const;
    return [
      {
        ...common,
        method: 'POST',
        path: '/admin/keys',
        summary: 'Create a gateway key (the key is in this answer only)',
        requestSchema: jsonSchemaOf(keyCreateSchema, 'input'),
        responseSchema: jsonSchemaOf(createdKeyAnswerSchema),
        successStatus: 201,
        handle: (context) => this.create(context.body),
      },
      {
        ...common,
        method: 'GET',
        path: '/admin/keys',
        summary: 'Every gateway key, with what it spent this budget period',
        responseSchema: jsonSchemaOf(keyListAnswerSchema),
        handle: () => this.list(),
      },
      {
        ...common,
        method: 'GET',
        path: '/admin/keys/:id',
        summary: 'One gateway key',
        responseSchema: key,
        handle: async (context) => ok(await this.answer(await this.state.keys.get(pathId(context)), pathId(context))),
      },
      {
        ...common,
        method: 'PATCH',
        path: '/admin/keys/:id',
        summary: "Change a gateway key's name, models or limits",
        requestSchema: jsonSchemaOf(keyPatchSchema, 'input'),
        responseSchema: key,
        handle: (context) => this.update(pathId(context), context.body),
      },
      {
        ...common,
        method: 'DELETE',
        path: '/admin/keys/:id',
        summary: 'Revoke a gateway key (401 from then on: at once here, within a second on every other replica)',
        responseSchema: key,
        handle: (context) => this.revoke(pathId(context)),
      },
      {
        ...common,
        method: 'GET',
        path: '/admin/usage',
        summary: "The team's usage by key, model or day (UTC dates, both inclusive; default this month)",
        queryParameters: USAGE_QUERY_PARAMETERS,
        responseSchema: jsonSchemaOf(usageAnswerSchema),
        handle: (context) => this.usage(context.query),
      },
    ];
  }

  private async create(body: unknown): Promise<JsonRouteAnswer> {
    const parsed = parseKeyCreate(body);
    if (!parsed.ok) {
      throw invalidInput(parsed);
    }
    const created = await this.state.keys.create(parsed.settings);
    return {
      status: 201,
      body: createdKeyAnswer(created.record, created.key),
      headers: { 'cache-control': 'no-store' },
    };
  }

  private async list(): Promise<JsonRouteAnswer> {
    const now = new Date();
    const records = await this.state.keys.list();
    const keys = await Promise.all(
      records.map(async (record) => ({ record, spentUsd: await this.spentUsd(record, now) })),
    );
    return ok(keyListAnswer(keys));
  }

  private async update(id: string, body: unknown): Promise<JsonRouteAnswer> {
    const parsed = parseKeyPatch(body);
    if (!parsed.ok) {
      throw invalidInput(parsed);
    }
    return ok(await this.answer(this.forgotten(await this.state.keys.update(id, parsed.settings)), id));
  }

  private async revoke(id: string): Promise<JsonRouteAnswer> {
    return ok(await this.answer(this.forgotten(await this.state.keys.revoke(id, new Date())), id));
  }

  /** A key just changed, after its cached record was dropped, so this replica's next request reads it anew. */
  private forgotten(record: GatewayKeyRecord | undefined): GatewayKeyRecord | undefined {
    if (record !== undefined) {
      this.access.forget(record);
    }
    return record;
  }

  private async usage(query: URLSearchParams): Promise<JsonRouteAnswer> {
    const parsed = parseUsageQuery(query, new Date());
    if (!parsed.ok) {
      throw invalidInput(parsed);
    }
    // Rows are written in batches: the ones still queued are written first, so the answer counts them.
    await this.state.ledger.flush();
    return ok(usageAnswer(parsed.query, await this.state.ledger.usage(parsed.query)));
  }

  /** A key as listed (with its spend this budget period); 404 when there is none. */
  private async answer(record: GatewayKeyRecord | undefined, id: string): Promise<unknown> {
    if (record === undefined) {
      throw keyNotFound(id);
    }
    return keyAnswer(record, await this.spentUsd(record, new Date()));
  }

  private spentUsd(record: GatewayKeyRecord, now: Date): Promise<number> {
    return this.state.ledger.spentUsd(record.id, budgetPeriodStart(record.budgetPeriod, now));
  }
}
