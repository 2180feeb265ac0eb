# One image for the four services; APP picks which one runs (gateway, openai-relay, claude-bridge, bard-bridge).
# NODE_IMAGE lets a machine without a registry build from a local base image (tools/containers/prove.sh).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY tsconfig.base.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build && npm prune --omit=dev --ignore-scripts \
  && rm -rf apps/*/test libs/*/*/src apps/*/src

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER 1000
ARG APP=gateway
ENV APP=${APP}
EXPOSE 3000 3001 3002 3003
CMD ["sh", "-c", "exec node apps/${APP}/dist/main.js"]
