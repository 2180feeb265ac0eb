export * from './lib/claude-web.settings';
export * from './lib/claude-web.service';
export * from './lib/claude-web.routes';
export * from './lib/claude-web.module';
