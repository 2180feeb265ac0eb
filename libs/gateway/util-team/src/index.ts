export * from './lib/team.types';
export * from './lib/gateway-key';
export * from './lib/budget-period';
export * from './lib/model-patterns';
export * from './lib/model-router';
export * from './lib/prices';
