export * from './lib/team.settings';
