export * from './lib/bard.transform';
