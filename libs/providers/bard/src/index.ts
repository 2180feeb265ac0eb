export * from './lib/bard.transform';
export * from './lib/bard-session.types';
export * from './lib/bard-credentials';
export * from './lib/bard-input.schema';
export * from './lib/bard.adapter';
