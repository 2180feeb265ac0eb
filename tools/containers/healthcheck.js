// Docker HEALTHCHECK: the service's /healthz (the gateway's for APP=all) answers 200 within 2 s.
const defaults = { gateway: 3000, 'openai-relay': 3001, 'claude-bridge': 3002, 'bard-bridge': 3003, all: 3000 };
const app = process.env.APP || 'gateway';
const port = app === 'all' ? process.env.GATEWAY_PORT || 3000 : process.env.PORT || defaults[app] || 3000;
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
