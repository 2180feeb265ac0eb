// Docker HEALTHCHECK: the service's /healthz (the gateway's for APP=all) answers 200 within 2 s. The port comes
// from the services manifest as built into the image (libs/shared/util-services/dist).
const { join } = require('node:path');
const { SERVICES_MANIFEST, healthcheckPort } = require(
  join(__dirname, '../../libs/shared/util-services/dist/index.js'),
);

const port = healthcheckPort(SERVICES_MANIFEST, process.env);
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
