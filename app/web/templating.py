"""Jinja2 rendering for the pages: one autoescaping environment, one `render()`, page headers.

Every HTML answer, pages and error pages alike, goes through `render()`, which
adds the visitor's context, the session cookie and the security headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.web.session import WebContext

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# No inline script or style anywhere: the stylesheet is /static, charts are inline SVG
# styled by that stylesheet, and there is no JavaScript at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def query_url(request: Request, **changes: Any) -> str:
    """This page's path and query with some parameters replaced (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


LABELS = {
    "un_entity": "UN entity",
    "ngo": "NGO",
    "nhri": "National human rights institution",
    "academic": "Academia",
    "state": "State",
    "private": "Private sector",
    "regional_organization": "Regional organisation",
    "africa": "Africa",
    "asia_pacific": "Asia-Pacific",
    "eastern_europe": "Eastern Europe",
    "latin_america_caribbean": "Latin America and the Caribbean",
    "western_europe_others": "Western Europe and others",
    "state_only": "its State only",
}


def _label(value: Any) -> str:
    """A code as words: `un_entity` -> `UN entity`, `peer_exchange` -> `Peer exchange`."""
    text = str(value)
    if text in LABELS:
        return LABELS[text]
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["label"] = _label
environment.globals["query_url"] = query_url


def page_headers(response: HTMLResponse | RedirectResponse, web: WebContext | None) -> None:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Vary"] = "Cookie"
    if web is not None:
        web.apply(response)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a template as a page for this request's visitor."""
    web: WebContext | None = getattr(request.state, "web", None)
    html = environment.get_template(name).render(request=request, web=web, **(context or {}))
    response = HTMLResponse(html, status_code=status_code)
    page_headers(response, web)
    return response


def redirect(request: Request, url: str) -> RedirectResponse:
    """A 303 See Other (the answer to a successful form POST), carrying any session change."""
    response = RedirectResponse(url, status_code=303)
    page_headers(response, getattr(request.state, "web", None))
    return response


def safe_next(url: str | None, default: str = "/") -> str:
    """A local path to return to after sign-in; anything else (//host, https://...) is ignored."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url and "\n" not in url:
        return url
    return default


class Pager:
    """What the pagination partial needs: the window shown and the offsets of its neighbours."""

    def __init__(self, *, total: int, limit: int, offset: int) -> None:
        self.total, self.limit, self.offset = total, limit, offset

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))
