# generated from libs/shared/util-services/src/lib/services.manifest.ts by `npm run manifest`: do not edit
# One image for the services. APP picks what runs: gateway, openai-relay, claude-bridge, bard-bridge,
# or `all` (every service in one container behind the gateway on port 3000, like the original's one-line start).
# NODE_IMAGE lets a machine without a registry build from a local base image (tools/containers/prove.sh).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 (team mode's embedded database) is the one install script that runs: it fetches a prebuilt
# binary, or compiles against the Node.js headers (python3, make and g++ are in the build stage only).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools/scripts ./tools/scripts
COPY tsconfig.base.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3 && npm run build \
  && npm prune --omit=dev --ignore-scripts && rm -rf apps/*/test apps/*/src libs/*/*/src \
  && find node_modules/better-sqlite3/build -type f ! -name better_sqlite3.node -delete \
  && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src

FROM ${NODE_IMAGE}
# tini as PID 1: forwards SIGTERM to the service (which drains its streams) and reaps children.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
# The healthcheck reads its port table from the built services manifest (libs/shared/util-services/dist).
COPY tools/containers/entrypoint.sh tools/containers/healthcheck.js /app/tools/containers/
# Team mode's default database (DATABASE_URL=sqlite:./data/gateway.db) lives in this volume: writable under a
# read-only root, kept across restarts. Several replicas share PostgreSQL instead.
RUN mkdir -p /app/data && chown 1000:1000 /app/data
VOLUME /app/data
USER 1000
ARG APP=gateway
ENV APP=${APP}
EXPOSE 3000 3001 3002 3003
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "/app/tools/containers/healthcheck.js"]
ENTRYPOINT ["tini", "--", "/app/tools/containers/entrypoint.sh"]
