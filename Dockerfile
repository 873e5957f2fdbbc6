# Troupe runtime image (used by docker-compose.yml). Node 20; tsx runs the TypeScript sources
# directly (as `npm start` does). The dashboard (ui/) is built into ui/dist at image build time
# (vite and the React plugin are runtime dependencies), so the gateway serves it at /.
FROM node:20.18.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall UI build needs ui/, which is copied below
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY ui ./ui
RUN node_modules/.bin/tsx ui/scripts/build-ui.ts --force && test -f ui/dist/index.html
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
CMD ["npm", "start"]
