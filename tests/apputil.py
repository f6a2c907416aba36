"""An application for a test, as `create_app` builds it, without paying FastAPI's route set-up again.

FastAPI works out each route's dependencies and request and response models on an application's
first requests (0.1-0.3 s of CPU for this one's 110 routes), and a test's application serves only
a few. `app_for` builds a new application for every test, as the tests always had, and serves it
through the routes of the first one built in this process with the same settings and engine:
that one's routes (their set-up done once) with the new one's state (match index, tagger, signer,
export slots, ready checks: all made afresh at start-up), middleware (rate limits, idempotency),
error handlers and dependency overrides. Only what `create_app` builds the same for the same
settings is shared: the route table and its generated OpenAPI document, which a test that changes
the routes gets back as they were (and a document made again) in the next test.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.routing import BaseRoute

from app.core.config import Settings, get_settings
from app.main import create_app

# (settings as JSON, engine id) -> the first application built for them and its route table as built
_routed: dict[tuple[str, int], tuple[FastAPI, list[BaseRoute]]] = {}


def app_for(settings: Settings, engine: Engine) -> FastAPI:
    """A new application with `settings` on `engine` (and `get_settings` overridden to return them)."""
    built = create_app(settings, engine=engine)
    key = (settings.model_dump_json(), id(engine))
    if key not in _routed:
        _routed[key] = built, list(built.router.routes)
        application = built
    else:
        application, routes = _routed[key]
        if application.router.routes != routes:  # a test added or removed routes: back to those built
            application.router.routes[:] = routes
            application.openapi_schema = None
        application.state = built.state
        application.user_middleware = built.user_middleware
        application.exception_handlers = built.exception_handlers
        application.middleware_stack = None  # built again, with the new middleware, on the first request
        application.dependency_overrides.clear()
    application.dependency_overrides[get_settings] = lambda: settings
    return application
