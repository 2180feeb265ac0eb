export * from './lib/services.manifest';
