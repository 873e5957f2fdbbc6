# Troupe runtime image (used by docker-compose.yml). Node 20, production dependencies only;
# tsx runs the TypeScript sources directly (as `npm start` does).
FROM node:20.18.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
CMD ["npm", "start"]
