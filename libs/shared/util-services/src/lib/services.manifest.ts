/** The services of the product: filled in by the services-manifest work (issue 11). */
export const SERVICES_MANIFEST_VERSION = 1;
