"""Interactive API docs at `/docs`: Swagger UI served from the installed package, never from a CDN.

The assets come from the pinned `swagger-ui-bundle-v2` wheel (Swagger UI 5.31.0, which reads
OpenAPI 3.1) under `/docs/assets/`; the page loads only same-origin scripts (its own
initializer at `/docs/init.js`, no inline script), and carries a Content-Security-Policy
that forbids any other origin, framing, and form posts elsewhere.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
# Swagger UI renders with inline style attributes and data: icons; scripts are same-origin only.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} - API docs</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
});
"""


def install_docs(app: FastAPI) -> None:
    """Serve `/docs`, its initializer and the Swagger UI assets (create the app with `docs_url=None`)."""
    page = _PAGE.replace("{title}", app.title)
    headers = {"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(_INIT, media_type="text/javascript", headers=headers)

    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
