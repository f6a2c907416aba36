"""The public repository on the web: server-rendered pages served by the API's own app.

Pages call the same service functions as the API (`route -> service`), render
Jinja2 templates from `app/templates` and share one stylesheet from `app/static`.
`install_web(app, settings)` wires it all into `create_app`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.core.config import Settings, load_secret_key
from app.reference.validation import is_iso3
from app.web.errors import install_html_error_handlers
from app.web.routes import router
from app.web.session import Signer
from app.web.templating import environment
from app.web.unsubscribe import router as unsubscribe_router

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def install_web(app: FastAPI, settings: Settings) -> None:
    """Mount the pages at `/`, the static files at `/static`, and HTML error pages for page paths."""
    app.state.signer = Signer(load_secret_key(settings))
    app.include_router(router)
    # The e-mails' unsubscribe link: its token is the proof, so it stands outside the CSRF-checked router.
    app.include_router(unsubscribe_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_html_error_handlers(app)
    # Compile every template and load pycountry's tables (~0.4 s) now, not on a visitor's first request.
    for name in environment.list_templates(extensions=["html"]):
        environment.get_template(name)
    is_iso3("FRA")
