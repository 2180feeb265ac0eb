export * from './lib/billing-dates';
export * from './lib/billing.types';
