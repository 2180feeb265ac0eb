#!/bin/sh
# Starts the service named by APP; APP=all starts the four with the launcher (gateway on GATEWAY_PORT, 3000).
set -e
if [ "$APP" = "all" ]; then
  # JSON log lines even under `docker run -t`: log collectors read JSON (LOG_FORMAT=pretty to read them by eye).
  LOG_FORMAT="${LOG_FORMAT:-json}" exec node /app/tools/scripts/launch.mjs
fi
exec node "/app/apps/$APP/dist/main.js"
