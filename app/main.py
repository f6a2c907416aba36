"""The application factory: settings, database engine, routers, error handlers."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session
from starlette.types import Scope
from threadpoolctl import threadpool_limits

from app import __version__
from app.core import metrics
from app.core.config import Settings, get_settings
from app.core.db import create_db_engine
from app.core.jsontypes import JsonObject
from app.http.docs import install_docs
from app.http.idempotency import IdempotencyMiddleware
from app.http.middleware import (
    BodyLimitMiddleware,
    NulGuardMiddleware,
    RequestContextMiddleware,
    RequestLanguageMiddleware,
)
from app.http.openapi import install_openapi
from app.http.problems import install_error_handlers
from app.http.public_cache import PublicCacheMiddleware
from app.http.ratelimit import RateLimitMiddleware
from app.http.streaming import StreamSlots
from app.match_index.change_log import prune_log
from app.match_index.index import MatchIndex
from app.models.common import utcnow
from app.routes import api_router, health
from app.routes import metrics as metrics_route
from app.services import heartbeats
from app.services import themes as theme_service
from app.web import install_web
from app.web.errors import page_errors
from matching.schemes import MultiSchemeTagger

logger = logging.getLogger("app")

DESCRIPTION = """
The open repository of technical cooperation for implementing UN Universal Periodic
Review (UPR) recommendations, with a matchmaking engine that pairs what a State needs
with who can help.

Errors are RFC 9457 `application/problem+json`. Lists answer
`{"items", "total", "limit", "offset"}`. Write operations take
`Authorization: Bearer <key>`.
"""


# Bulk endpoints that accept bodies up to MAX_IMPORT_BYTES instead of MAX_BODY_BYTES.
LARGE_BODY_PATHS = ("/v1/recommendations/import", "/v1/mappings")
# How often a thread holding the interpreter lets another one in (Python's default: 5 ms); see the lifespan.
SWITCH_INTERVAL_S = 0.001


def configure_logging(level: str) -> None:
    """Log to stderr with timestamps; idempotent."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("app").setLevel(level)


# A readiness probe: `ok` and what it found (the details are shown to admin keys only).
ReadyCheck = Callable[[], JsonObject]


def _database_check(engine: Engine) -> ReadyCheck:
    def check() -> JsonObject:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        result: JsonObject = {"ok": True, "backend": engine.dialect.name}
        pool = engine.pool
        if isinstance(pool, QueuePool):
            # Connections in use right now (this check's own is back), of the pool's size.
            result["pool"] = {"checked_out": pool.checkedout(), "size": pool.size()}
        return result

    return check


def _matcher_check(index: MatchIndex) -> ReadyCheck:
    def check() -> JsonObject:
        return index.status()

    return check


def _languages_check(index: MatchIndex) -> ReadyCheck:
    def check() -> JsonObject:
        # Optional: without the lexicon, French and Spanish texts are ranked as written (and say so).
        return {"ok": True, "crosslingual": index.ranker.themes.reader is not None, "detail": index.languages_detail}

    return check


def _tagger_check(tagger: MultiSchemeTagger | None) -> ReadyCheck:
    version = theme_service.version_of(tagger)

    def check() -> JsonObject:
        # Optional: without a tagger, matching compares declared themes only.
        if tagger is None:
            return {"ok": True, "loaded": False, "detail": "no trained tagger; run `upr-match train`"}
        return {"ok": True, "loaded": True, "version": version, "schemes": tagger.schemes}

    return check


def _worker_check(engine: Engine, stale_after_s: float) -> ReadyCheck:
    def check() -> JsonObject:
        with Session(engine) as session:
            seen = heartbeats.last_seen(session)
        if seen is None:  # no worker ever ran here (a deployment may run none): nothing to wait for
            return {"ok": True, "seen": False, "detail": "no worker has reported yet"}
        age = (utcnow() - seen).total_seconds()
        result: JsonObject = {"ok": age <= stale_after_s, "seen": True, "last_seen_s": round(age, 1)}
        if not result["ok"]:
            result["detail"] = (
                f"no worker seen for {age:.0f} s (WORKER_STALE_AFTER_S {stale_after_s:g}): the inbox, alerts, "
                "webhooks and e-mail wait until `upr-match worker` runs again"
            )
        return result

    return check


def _build_index(engine: Engine, index: MatchIndex) -> None:
    """Build the matching index; if the database is not reachable yet, the first match builds it."""
    started = time.perf_counter()
    try:
        with Session(engine) as session:
            index.load(session)
            prune_log(session)
    except Exception:
        logger.exception("matching index not built at start-up; it will be built on first use")
    else:
        metrics.INDEX_BUILD.set(time.perf_counter() - started)


def _warm_related(engine: Engine, index: MatchIndex) -> None:
    """Read the recommendations `related` ranks (and store their theme vectors) before anyone asks."""
    try:
        with Session(engine) as session:
            index.with_recommendations(session)
    except Exception:
        logger.exception("recommendations for related not read at start-up; the first related request reads them")


def _release(scope: Scope) -> str:
    """What besides the data shapes public answers: the service's version and the tagger's."""
    return f"{__version__}/{theme_service.version_of(scope['app'].state.tagger)}"


def _engine(scope: Scope) -> Engine | None:
    engine: Engine | None = getattr(scope["app"].state, "engine", None)
    return engine


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Callable[[], float] = time.time
) -> FastAPI:
    """Build the FastAPI application (uvicorn calls this with `--factory`)."""
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_engine = engine is None
        # The workers are the parallelism: a BLAS pool per worker sized to every core makes each
        # matrix product of the ranking spin threads that compete with the other workers (at
        # 10,000 providers one theme product cost 4 ms of CPU instead of 0.06 ms on 2 busy cores).
        threadpool_limits(limits=1, user_api="blas")
        # The event loop (accepting, reading, answering) shares the interpreter with the threads that
        # run the endpoints; at the default 5 ms it waited up to 5 ms for the lock behind a busy
        # thread, at every step of every request. 1 ms served 300 requests a second of the read mix
        # on two workers where 5 ms reached p99 0.8-1.3 s (docs/decisions/2026-12-03-request-cost.md).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        app.state.engine = engine or create_db_engine(settings)
        metrics.worker_started()
        metrics.track_pool(app.state.engine)
        app.state.ready_checks["database"] = _database_check(app.state.engine)
        app.state.ready_checks["worker"] = _worker_check(app.state.engine, settings.WORKER_STALE_AFTER_S)
        started = time.perf_counter()
        app.state.tagger = theme_service.load(settings)
        if app.state.tagger is not None:
            metrics.TAGGER_LOAD.set(time.perf_counter() - started)
        app.state.ready_checks["tagger"] = _tagger_check(app.state.tagger)
        app.state.match_index = MatchIndex(settings, app.state.tagger)
        app.state.ready_checks["matcher"] = _matcher_check(app.state.match_index)
        app.state.ready_checks["languages"] = _languages_check(app.state.match_index)
        _build_index(app.state.engine, app.state.match_index)
        if settings.RELATED_WARM_AT_START:
            threading.Thread(
                target=_warm_related, args=(app.state.engine, app.state.match_index), name="related-warm", daemon=True
            ).start()
        logger.info("upr-match %s starting on %s", __version__, app.state.engine.dialect.name)
        try:
            yield
        finally:
            metrics.worker_stopped()
            if owns_engine:
                app.state.engine.dispose()

    app = FastAPI(
        title="upr-match",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=False,
        openapi_url="/openapi.json",
        docs_url=None,  # app.http.docs serves Swagger UI from the installed package
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.tagger = None
    app.state.ready_checks = {}
    app.state.export_slots = StreamSlots(
        settings.EXPORT_MAX_CONCURRENT,
        per_client=settings.EXPORT_MAX_PER_CLIENT,
        stall_when_busy=settings.EXPORT_STALL_WHEN_BUSY_S,
    )
    install_error_handlers(app)
    if settings.CORS_ORIGINS:
        # Credentials are bearer keys sent explicitly, never cookies, so no allow_credentials.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key"],
            expose_headers=["ETag", "Retry-After", "X-Request-ID"],
        )
    # Outermost last: RequestLanguage -> RequestContext -> RateLimit -> PublicCache -> BodyLimit -> Idempotency
    # -> NulGuard -> routes.
    # Not on /v1/keys: a saved answer would hold the new key's secret in clear.
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(IdempotencyMiddleware, prefixes=("/v1/",), exclude=("/v1/keys",))
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.MAX_BODY_BYTES,
        large_limit=settings.MAX_IMPORT_BYTES,
        large_paths=LARGE_BODY_PATHS,
    )
    app.add_middleware(
        PublicCacheMiddleware,
        max_age_s=settings.PUBLIC_MAX_AGE_S,
        stale_s=settings.PUBLIC_STALE_WHILE_REVALIDATE_S,
        release=_release,
        engine=_engine,
        clock=clock,
        kept_entries=settings.PUBLIC_KEPT_ANSWERS,
        kept_bytes=settings.PUBLIC_KEPT_MB * 1024 * 1024,
    )
    app.add_middleware(
        RateLimitMiddleware,
        per_minute=settings.RATE_LIMIT_PER_MINUTE,
        creates_per_hour=settings.WRITE_QUOTA_PER_HOUR,
        failed_auth_per_minute=settings.AUTH_FAILURES_PER_MINUTE,
        storage_url=settings.RATE_LIMIT_STORAGE_URL,
        clock=clock,
        page_errors=page_errors,
    )
    app.add_middleware(RequestContextMiddleware, hsts=settings.ENVIRONMENT == "production")
    app.add_middleware(RequestLanguageMiddleware)  # outermost: every message of the request is in its language
    app.include_router(health.router)
    if settings.METRICS_PORT is None:  # else `upr-match serve` answers them on their own port
        app.include_router(metrics_route.router)
    app.include_router(api_router, prefix="/v1")
    install_web(app, settings)
    install_openapi(app)
    install_docs(app)
    return app
