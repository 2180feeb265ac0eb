export * from './lib/team-store.types';
export * from './lib/team-migrations';
export * from './lib/team-database';
export * from './lib/key-store';
export * from './lib/usage-ledger';
export * from './lib/memory-limiter';
export * from './lib/redis-limiter';
export * from './lib/team-limiter';
