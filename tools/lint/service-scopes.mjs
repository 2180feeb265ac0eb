// generated from libs/shared/util-services/src/lib/services.manifest.ts by `npm run manifest`: do not edit
/** One lib scope per service: a service's libs import their own scope and scope:shared only. */
export const SERVICE_SCOPES = ['openai', 'claude', 'google', 'gateway'];
