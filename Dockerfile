# One image for ingress, worker and metrics; docker-compose.yml picks the app by command.
FROM node:24-bookworm-slim
RUN npm install -g pnpm@12.4.2
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile
ENV NODE_ENV=production
USER node
