# The spreadwatch monitor for docker-compose (Elasticsearch runs in its own container).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md scrapy.cfg setup.py constraints.txt ./
COPY spreadwatch ./spreadwatch
COPY crawlers ./crawlers
COPY indexer ./indexer
COPY scheduler ./scheduler
COPY alerts ./alerts
COPY evidence ./evidence
# Rendered evidence captures (an incident's `evidence: render:`) need Debian's Chromium and CJK
# fonts; build with --build-arg WITH_CHROMIUM=false to leave them out.
ARG WITH_CHROMIUM=true
RUN if [ "$WITH_CHROMIUM" = "true" ]; then apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*; fi
# PDF reports (WeasyPrint) need Pango; CJK fonts so Chinese posts print.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-noto-cjk && rm -rf /var/lib/apt/lists/*
# [scrapyd]: the same image runs the Scrapyd crawl hosts of the `scale` profile.
RUN pip install -c constraints.txt ".[scrapyd]" && useradd --system --create-home spreadwatch \
    && mkdir -p /var/lib/spreadwatch && chown spreadwatch /var/lib/spreadwatch
USER spreadwatch
CMD ["spreadwatch", "run", "/app/incidents"]
