# Samleng: slim, non-root; migrates the database, then serves.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY bots ./bots
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SAMLENG_ENV=production SAMLENG_SPOOL_DIR=/data/spool SAMLENG_VAR_DIR=/data
RUN useradd --system --uid 10001 --home-dir /data --create-home samleng
# analytics (issue 7): Chromium prints the quarterly PDF; Khmer OS fonts render Khmer in it.
# tzdata: the zone database zoneinfo reads (times shown in each organisation's zone).
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-khmeros tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /install /usr/local
USER samleng
WORKDIR /data
# /data holds the spool (and the SQLite file if you insist on SQLite): mount a durable volume.
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status==200 else 1)"
# The worker runs from the same image: docker run IMAGE samleng worker
CMD ["sh", "-c", "samleng migrate && exec samleng serve --host 0.0.0.0 --port 8000 --forwarded-allow-ips '*'"]
