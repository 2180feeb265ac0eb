import { Inject, Injectable } from '@nestjs/common';
import type { RouteSink } from '@openai-proxy/data-access-upstream';
import { AdminRoutes } from './admin-routes';
import { ModelsRoute } from './models-route';
import { TEAM_SETTINGS, type TeamSettings } from './team.settings';
import { UsageRoutes } from './usage-routes';
import { V1Routes } from './v1-routes';

/** Every route team mode adds at the edge: `/v1/*` always (routing by model), the rest when team mode is on. */
@Injectable()
export class TeamRoutes {
  constructor(
    private readonly v1: V1Routes,
    private readonly models: ModelsRoute,
    private readonly admin: AdminRoutes,
    private readonly usage: UsageRoutes,
    @Inject(TEAM_SETTINGS) private readonly settings: TeamSettings,
  ) {}

  register(sink: RouteSink): void {
    this.v1.register(sink);
    this.models.register(sink);
    this.admin.register(sink);
    this.usage.register(sink);
  }

  /** True when gateway keys are accepted (the native prefixes then go through TeamGate). */
  get gatewayKeysAccepted(): boolean {
    return this.settings.mode !== 'off';
  }
}
