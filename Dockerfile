# Pipedriven's image: `pipedriven run` as a non-root user. Configure it through the environment (.env.example).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY bot bot
COPY scheduler scheduler
COPY pipedrive pipedrive
COPY migrations migrations
COPY deploy/healthcheck.py deploy/healthcheck.py
RUN pip install . \
    && useradd --system --create-home --uid 10001 pipedriven

USER pipedriven
# Slack over HTTP and the Pipedrive webhooks on PORT, the Telegram webhook on TELEGRAM_WEBHOOK_PORT, /healthz and
# /readyz on HEALTH_PORT. The embedded database (DATABASE_URL unset) would live in PIPEDRIVEN_DATA_DIR.
ENV PORT=3000 \
    TELEGRAM_WEBHOOK_PORT=8443 \
    HEALTH_PORT=8080 \
    PIPEDRIVEN_DATA_DIR=/home/pipedriven/data
EXPOSE 3000 8443 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]

CMD ["pipedriven", "run"]
