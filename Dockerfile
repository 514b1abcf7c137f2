# syntax=docker/dockerfile:1
#
# Exception Hub image. One image for every role: HUB_ROLES picks api, worker and/or scheduler.
#
#   docker build -t exception-hub .
#   docker run --rm exception-hub node dist/src/main.js migrate   # apply migrations, then exit
#   docker run ... exception-hub                                  # sh scripts/start-hub.sh start
#
# No HEALTHCHECK here on purpose: a worker-only container (HUB_ROLES=worker,scheduler) serves no
# HTTP, so the probe belongs to the deployment (see docker-compose.yml: GET /health/ready).

ARG NODE_VERSION=20

# ---- build: full toolchain, dev dependencies, TypeScript compile ----
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
ENV SCARF_ANALYTICS=false \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false

# Dependencies first, so source edits do not invalidate the npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci

# tsconfig.json compiles src/, connectors/, migrations/, scripts/ and bench/ into dist/.
COPY . .
RUN npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

# ---- runtime: slim image, production dependencies only, non-root ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0

# Owned by root and only readable by the app user: the process cannot rewrite its own code or data files.
# package.json is needed at run time: its "type": "module" makes dist/**/*.js ES modules.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at start (paths relative to /app; override with HUB_MAPPINGS_DIR, HUB_POLICIES_DIR, HUB_CONNECTORS_DIR).
COPY mappings ./mappings
COPY policies ./policies
COPY config/connectors ./config/connectors
COPY samples ./samples
# The start command with the hub's Node/V8 flags (HUB_NODE_FLAGS overrides them; see the script).
COPY scripts/start-hub.sh ./scripts/start-hub.sh

USER node
EXPOSE 3000
CMD ["sh", "scripts/start-hub.sh", "start"]
