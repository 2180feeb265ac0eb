export * from './lib/no-proxy';
export * from './lib/upstream-dispatchers';
export * from './lib/relay.types';
export * from './lib/relay.service';
export * from './lib/stream-watch';
export * from './lib/body-limit';
export * from './lib/control-plane-http';
export * from './lib/upstream.module';
