export * from './lib/claude-web.types';
export * from './lib/prompt.transform';
export * from './lib/stream.transform';
