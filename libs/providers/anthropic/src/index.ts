export * from './lib/anthropic.types';
export * from './lib/anthropic.schema';
export * from './lib/finish-reason.map';
export * from './lib/request.transform';
export * from './lib/response.transform';
export * from './lib/stream.transform';
export * from './lib/error.transform';
export * from './lib/models.transform';
