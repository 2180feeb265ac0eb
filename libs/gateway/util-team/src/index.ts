export * from './lib/team.types';
export * from './lib/gateway-key';
export * from './lib/budget-period';
