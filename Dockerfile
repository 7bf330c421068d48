# syntax=docker/dockerfile:1
# grove: one image for every role (serve, worker, gateway, loadtest); the compose file picks the
# role with the command. Multi-stage: the build stage has the devDependencies (TypeScript), the
# runtime stage only production dependencies and dist/.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; we build explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY cli cli
COPY client client
COPY shared shared
COPY worker worker
COPY gateway gateway
COPY loadtest loadtest
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    GROVE_HEALTH_PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The demo repository; a named volume mounted on /models starts as a copy of it.
COPY --chown=node:node models /models
# The official node image ships an unprivileged `node` user (uid 1000).
USER node
EXPOSE 8080 8081 9000
# Readiness of whatever role runs here: the public API answers on GROVE_HEALTH_PORT
# (8080 for serve/gateway, 9000 for a worker; the compose file sets it).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.GROVE_HEALTH_PORT + '/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/grove.js"]
CMD ["serve", "--models", "/models", "--port", "8080"]
