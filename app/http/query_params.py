"""Unknown query parameters are a 422 naming them, on every `/v1` operation.

A misspelt or unsupported filter (`?affected_groups=women`, `?State=MEX`) would
otherwise be ignored, and the caller would read an unfiltered list as if it were
the answer. `reject_unknown_query` is a dependency of the whole `/v1` router: it
compares the request's query names with the parameters the matched operation
declares (read once per route from FastAPI's dependency tree) and refuses the
others. Pages (`/recommendations`, ...) are forms and keep ignoring extras.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.errors import UnprocessableEntity, field_error

_DECLARED: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameter names (aliases) an operation declares, its dependencies' included."""
    names = _DECLARED.get(id(route))
    if names is None:
        names = frozenset(_query_names(route.dependant))
        _DECLARED[id(route)] = names
    return names


async def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters the matched operation does not declare, naming each with what it accepts."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    allowed = declared_query(route)
    unknown = sorted({name for name in request.query_params if name not in allowed})
    if not unknown:
        return
    accepted = ", ".join(sorted(allowed)) if allowed else "no query parameters"
    raise UnprocessableEntity(
        f"Unknown query parameter(s): {', '.join(unknown)}. This operation accepts: {accepted}.",
        errors=[
            field_error(["query", name], f"unknown query parameter; this operation accepts: {accepted}")
            for name in unknown
        ],
    )
