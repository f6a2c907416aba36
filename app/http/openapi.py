"""The OpenAPI document: an explicit security decision on every operation.

Operations that need a key declare `[{"ApiKey": []}]`; public reads that also
accept a key (to show more to an authenticated caller) declare
`[{"ApiKey": []}, {}]` (a key is optional); operations that ignore keys declare
`[]`. A test checks that no operation is left without a decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from app.core.jsontypes import JsonObject
from app.http.api_language import ACCEPT_LANGUAGE_DESCRIPTION
from app.http.auth import get_principal, require_authenticated
from app.http.openapi_examples import add_examples

SCHEME = "ApiKey"


def _calls(dependant: Dependant) -> set[Callable[..., Any] | None]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def security_for(route: RouteContext) -> list[dict[str, list[str]]]:
    """The security requirement an operation should declare, from its dependencies."""
    calls = _calls(route.dependant)
    if require_authenticated in calls:
        return [{SCHEME: []}]
    if get_principal in calls:
        return [{SCHEME: []}, {}]
    return []


PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}


UNKNOWN_QUERY_422 = (
    "A field is invalid, or the query names a parameter this operation does not take; `errors` names each one and why."
)


def _problem_content(operation: JsonObject, *, strict_query: bool) -> None:
    """Errors are always application/problem+json (FastAPI's default 422 says application/json).

    Operations that refuse unknown query parameters (every /v1 one) document that 422.
    """
    if strict_query:
        operation.setdefault("responses", {}).setdefault("422", {})
    for code, response in operation.get("responses", {}).items():
        if code[:1] in {"4", "5"}:
            response["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
            if code == "422":
                response["description"] = (
                    UNKNOWN_QUERY_422 if strict_query else "A field is invalid; `errors` names each one and why."
                )


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every documented API route, with included routers flattened (paths carry their prefixes)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            found.append(context)
    return found


# Every API operation reads it (problem titles; the theme labels of facets), so every one documents it.
ACCEPT_LANGUAGE_PARAMETER: JsonObject = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": ACCEPT_LANGUAGE_DESCRIPTION,
    "schema": {"type": "string", "examples": ["fr", "es-MX,es;q=0.9"]},
}


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with a generator that sets every operation's security explicitly."""

    def openapi() -> JsonObject:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        for route in api_routes(app):
            path_item = schema.get("paths", {}).get(route.path_format, {})
            for method in route.methods or ():
                operation = path_item.get(method.lower())
                if operation is not None:
                    operation["security"] = security_for(route)
                    if (route.path_format or "").startswith("/v1/"):
                        operation.setdefault("parameters", []).append(ACCEPT_LANGUAGE_PARAMETER)
                    _problem_content(operation, strict_query=(route.path_format or "").startswith("/v1/"))
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        add_examples(schema)
        schema.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer upr_...`.",
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
