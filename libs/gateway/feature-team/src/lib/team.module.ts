import { type DynamicModule, Module } from '@nestjs/common';
import { AdminRoutes } from './admin-routes';
import { ModelsRoute } from './models-route';
import { ProviderEndpoints } from './provider-endpoints';
import { ProviderKeys } from './provider-keys';
import { TeamAccess } from './team-access';
import { TeamForwarder } from './team-forwarder';
import { TeamGate } from './team-gate';
import { TeamLimits } from './team-limits';
import { TeamRoutes } from './team-routes';
import { TeamState } from './team-state';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';
import { UsageRoutes } from './usage-routes';
import { V1Routes } from './v1-routes';

/**
 * Team mode (README "Team gateway"): gateway keys, routing by model, limits, the usage ledger and the admin API.
 * The edge asks TeamRoutes to register the team routes and TeamGate to admit native-prefix requests; with
 * `GATEWAY_KEYS=off` and no admin token nothing here opens any state.
 */
@Module({})
export class TeamModule {
  static register(settings: TeamSettings): DynamicModule {
    return {
      module: TeamModule,
      providers: [
        { provide: TEAM_SETTINGS, useValue: settings },
        TeamState,
        TeamAccess,
        TeamLimits,
        ProviderKeys,
        ProviderEndpoints,
        TeamForwarder,
        TeamGate,
        V1Routes,
        ModelsRoute,
        AdminRoutes,
        UsageRoutes,
        TeamRoutes,
      ],
      exports: [TeamGate, TeamRoutes, TEAM_SETTINGS],
    };
  }
}
