export * from './lib/team.settings';
export * from './lib/team.module';
export * from './lib/team-gate';
export * from './lib/team-routes';
export * from './lib/team-state';
export * from './lib/admin-routes.schemas';
export * from './lib/usage-routes.schemas';
export * from './lib/models-route.list';
