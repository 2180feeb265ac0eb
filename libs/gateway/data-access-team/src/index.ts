export * from './lib/team-store.types';
