# One image for every MAST process; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MAST_STATE_DIR=/var/lib/mast
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mast_core mast_core
COPY mast_cli mast_cli
COPY messaging messaging
COPY producers producers
COPY stream_processors stream_processors
COPY schemas schemas
COPY sinks sinks
COPY query_api query_api
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/mast mast \
    && mkdir -p /var/lib/mast && chown mast /var/lib/mast
USER mast
ENTRYPOINT ["mast"]
