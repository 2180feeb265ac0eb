#!/bin/sh
# Starts the service named by APP; APP=all starts the four with the launcher (gateway on GATEWAY_PORT, 3000).
set -e
if [ "$APP" = "all" ]; then
  exec node /app/tools/scripts/launch.mjs
fi
exec node "/app/apps/$APP/dist/main.js"
