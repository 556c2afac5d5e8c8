# One image for ingress, worker and metrics; docker-compose.yml picks the app by command
# (`node /app/<app>.js`). Build: `docker compose build` or `docker build -t inner-talk:local .`.
#
# Stage 1 compiles the apps once (scripts/build.ts: one bundled JavaScript file per app, npm
# dependencies included). Stage 2 is Debian with Node's binary and those files only: no package
# manager, no node_modules, no TypeScript at run time; node is the container's main process, so it
# receives SIGTERM itself and drains (compose adds `init: true` to reap zombies).

FROM node:24-bookworm-slim AS build
RUN npm install -g --no-audit --no-fund pnpm@12.4.2
WORKDIR /src
# The lockfile alone decides the downloads: this layer stays cached until dependencies change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile && pnpm build

FROM debian:bookworm-slim AS runtime
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --no-create-home --shell /usr/sbin/nologin node
WORKDIR /app
COPY --from=build /src/dist/ingress.js /src/dist/worker.js /src/dist/metrics.js /src/dist/cli.js /src/dist/healthcheck.js ./
# Lua scripts, read at run time relative to their source folder (see scripts/build.ts).
COPY --from=build /src/dist/packages ./packages
ENV NODE_ENV=production
# node-fetch 2 (grammY's HTTP client) calls url.parse() on every request. Node hides that deprecation
# for code inside node_modules; a bundle is not, so it would print a non-JSON line into the logs.
ENV NODE_OPTIONS=--disable-warning=DEP0169
USER node
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.js"]
# The worker by default (docker-compose.yml explains --optimize-for-size).
CMD ["node", "--optimize-for-size", "/app/worker.js"]
