export * from './lib/team.types';
