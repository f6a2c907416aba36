# upr-match API image: slim Python, non-root, dependencies in their own layer.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv/upr-match
# Apertium (Debian): `upr-match train` builds the cross-language lexicon with it (French and Spanish read in English).
RUN apt-get update && apt-get install -y --no-install-recommends apertium apertium-eng-spa apertium-fr-es \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p app matching && touch app/__init__.py matching/__init__.py \
    && pip install . && pip uninstall -y upr-match

COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY matching ./matching
RUN pip install --no-deps . && useradd --system --uid 10001 --home-dir /srv/upr-match upr \
    && mkdir -p /srv/upr-match/var/models && chown -R upr /srv/upr-match/var

USER upr
# var/models exists and belongs to upr, so a new named volume mounted there starts writable by it.
ENV UPR_DATA_DIR=/data/upr MODEL_DIR=/srv/upr-match/var/models
EXPOSE 8000
# Migrate, then serve. uvicorn's --no-server-header is set by `upr-match serve`.
CMD ["sh", "-c", "upr-match migrate && upr-match serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
