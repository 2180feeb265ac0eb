export * from './lib/bard.settings';
export * from './lib/expiring-map';
export * from './lib/bard.service';
export * from './lib/bard.routes';
export * from './lib/bard.module';
