# One image for the four services; APP picks which one runs (gateway, openai-relay, claude-bridge, bard-bridge).
# Minimal for now: the deployment issue hardens it (non-root checks, init process, healthcheck proof).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY tsconfig.base.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node
ARG APP=gateway
ENV APP=${APP}
CMD ["sh", "-c", "exec node apps/${APP}/dist/main.js"]
