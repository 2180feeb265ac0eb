export * from './lib/header-names';
export * from './lib/forwarding';
export * from './lib/redaction';
export * from './lib/credentials';
