export * from './lib/claude-web.settings';
export * from './lib/claude-web.errors';
export * from './lib/claude-web.service';
export * from './lib/claude-conversations.controller';
export * from './lib/claude-web-completions.controller';
export * from './lib/claude-web.module';
