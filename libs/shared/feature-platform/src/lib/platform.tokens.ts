/** Injection token for the service's PlatformSettings. */
export const PLATFORM_SETTINGS = Symbol('PLATFORM_SETTINGS');
