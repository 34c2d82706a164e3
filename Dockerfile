# The pgtransit worker image: `docker compose up` builds it, or
#   docker build -t pgtransit .   then   docker run --rm -e TEMPORAL_ADDRESS=... pgtransit worker
# Node.js runs the TypeScript directly (tsx, a runtime dependency), as `bin/pgtransit.js` does
# from a clone; pg_dump, pg_restore and psql come from the PostgreSQL Global Development Group's
# apt repository, of the newest major pgtransit supports (they dump every older server too).
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ARG PG_MAJOR=18
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl gnupg; \
    curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc \
      | gpg --dearmor -o /usr/share/keyrings/postgresql-archive-keyring.gpg; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/keyrings/postgresql-archive-keyring.gpg] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}"; \
    apt-get purge -y --auto-remove curl gnupg; \
    rm -rf /var/lib/apt/lists/*; \
    "/usr/lib/postgresql/${PG_MAJOR}/bin/pg_dump" --version
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin pgtransit
WORKDIR /app
ENV NODE_ENV=production \
    PGTRANSIT_PG_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY temporal-config ./temporal-config
USER pgtransit
ENTRYPOINT ["node", "bin/pgtransit.js"]
CMD ["worker"]
