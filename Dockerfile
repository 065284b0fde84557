# The spreadwatch monitor for docker-compose (Elasticsearch runs in its own container).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md scrapy.cfg ./
COPY spreadwatch ./spreadwatch
COPY crawlers ./crawlers
COPY indexer ./indexer
COPY scheduler ./scheduler
COPY alerts ./alerts
RUN pip install . && useradd --system --create-home spreadwatch && mkdir -p /var/lib/spreadwatch \
    && chown spreadwatch /var/lib/spreadwatch
USER spreadwatch
CMD ["spreadwatch", "run", "/app/incidents"]
