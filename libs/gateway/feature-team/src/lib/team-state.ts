import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ReadinessService } from '@openai-proxy/feature-platform';
import type { KeyStore, KyselyUsageLedger, TeamDatabase, TeamLimiter } from '@openai-proxy/gateway-data-access-team';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';

/** The readiness check of the shared limit store: without it no gateway-key request is served. */
export const LIMITS_READINESS_CHECK = 'team-limits';

/** What team mode keeps: the database's keys and ledger, and the limiter. Opened at start, closed last. */
interface OpenState {
  database: TeamDatabase;
  keys: KeyStore;
  ledger: KyselyUsageLedger;
  limiter: TeamLimiter;
}

/**
 * Team mode's state (README "Team gateway"): the team database (`DATABASE_URL`, migrated at start), its key
 * store and usage ledger, and the limiter (`REDIS_URL`, else in process). At shutdown, after the drain, the
 * ledger writes what it still holds before the database closes (trying again for a few seconds when the database
 * refuses), so no row is lost to a passing failure; rows it still could not write are logged as dropped.
 */
@Injectable()
export class TeamState implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('TeamState');
  private state: OpenState | undefined;
  /** The limiter's "store unreachable" class (it comes with the lazily loaded lib); kept after a stop. */
  private unavailableError: (new (message: string) => Error) | undefined;
  private limiterWasReady = true;

  constructor(
    @Inject(TEAM_SETTINGS) private readonly settings: TeamSettings,
    private readonly readiness: ReadinessService,
  ) {}

  /** State is kept only when gateway keys are accepted or the admin API is on. */
  get enabled(): boolean {
    return this.settings.mode !== 'off' || this.settings.adminToken !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) {
      return;
    }
    // Loaded only here: the database and Redis drivers (tens of MB) are not the pass-through gateway's to carry.
    const store = await import('@openai-proxy/gateway-data-access-team');
    const database = await store.openTeamDatabase(this.settings.databaseUrl);
    const ledger = new store.KyselyUsageLedger(database.db, {
      onWriteError: (error) => this.logger.error(`usage ledger write failed (rows kept, retried): ${describe(error)}`),
      onDroppedAtClose: (rows, error) =>
        this.logger.error(
          `usage ledger: ${rows} rows dropped at shutdown, the database never took them: ${describe(error)}`,
        ),
    });
    const limiter = store.createTeamLimiter({ redisUrl: this.settings.redisUrl });
    this.state = {
      database,
      keys: new store.KyselyKeyStore(database.db),
      ledger,
      limiter,
    };
    this.unavailableError = store.LimiterUnavailableError;
    this.readiness.register(LIMITS_READINESS_CHECK, () => this.limiterReadiness(limiter), { required: true });
    this.logger.log(
      `team mode: GATEWAY_KEYS=${this.settings.mode}, ${database.dialect} database, limits ${this.settings.redisUrl === undefined ? 'in process' : 'in Redis'}`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    const state = this.state;
    this.state = undefined;
    if (state === undefined) {
      return;
    }
    try {
      await state.ledger.close();
    } finally {
      await Promise.allSettled([state.limiter.close(), state.database.close()]);
    }
  }

  get keys(): KeyStore {
    return this.open().keys;
  }

  get ledger(): KyselyUsageLedger {
    return this.open().ledger;
  }

  get limiter(): TeamLimiter {
    return this.open().limiter;
  }

  /** True for the error a limiter throws when its store (Redis) cannot be reached. */
  isLimiterUnavailable(error: unknown): boolean {
    return this.unavailableError !== undefined && error instanceof this.unavailableError;
  }

  private open(): OpenState {
    if (this.state === undefined) {
      throw new Error('team state used before the gateway started or after it stopped');
    }
    return this.state;
  }

  /** Redis down is said in /readyz and logged once each time it goes and comes back. */
  private async limiterReadiness(limiter: TeamLimiter): Promise<{ ok: boolean; detail?: string }> {
    const ready = await limiter.ready();
    if (ready !== this.limiterWasReady) {
      this.limiterWasReady = ready;
      if (ready) {
        this.logger.log('limit store reachable again: gateway-key requests are served');
      } else {
        this.logger.error('limit store (Redis) unreachable: gateway-key requests are refused with 503');
      }
    }
    return ready ? { ok: true } : { ok: false, detail: 'limit store (Redis) unreachable' };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
