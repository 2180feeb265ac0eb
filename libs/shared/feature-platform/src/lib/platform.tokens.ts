/** Injection token for the service's PlatformSettings. */
export const PLATFORM_SETTINGS = Symbol('PLATFORM_SETTINGS');

/** Injection token for the service's root pino logger (app logs and access logs). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
