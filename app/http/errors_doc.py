"""OpenAPI documentation of problem responses, for the routes' `responses=`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.core.jsontypes import JsonObject


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where the bad value is, e.g. ["body", "state"].')
    pointer: str = Field(description="The same as a JSON-pointer-like path, e.g. /body/state.")
    field: str
    detail: str = Field(description="Why it was refused.")
    type: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of this API is rendered."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/not-found",
                    "title": "Not found",
                    "status": 404,
                    "detail": "Need 7f0c... does not exist.",
                    "code": "NOT_FOUND",
                    "instance": "/v1/needs/7f0c...",
                }
            ]
        },
    )

    type: str = Field(description="A URI reference naming the kind of problem (`about:blank` for plain HTTP ones).")
    title: str
    status: int
    detail: str
    code: str | None = Field(default=None, description="Stable UPPER_SNAKE_CASE reason to key on.")
    instance: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Every invalid field (validation errors).")


_DESCRIPTIONS = {
    400: "Malformed request (e.g. the body is not valid JSON).",
    401: "Missing, malformed or revoked API key.",
    403: "The key is valid but may not do this.",
    404: "No such resource.",
    409: "Conflicts with the current state (duplicate, or dependants exist).",
    412: "`If-Match` does not match the current ETag: someone changed it first.",
    413: "The request body is too large.",
    422: "A field is invalid; `errors` names each one and why.",
    428: "`If-Match` is required for this write.",
    429: "Rate limit or quota exceeded; see `Retry-After`.",
    503: "A dependency (database, index) is not available; retry later.",
    507: "The database has no space left; nothing was written.",
}


def problems(*statuses: int) -> dict[int | str, JsonObject]:
    """`responses=` entries documenting the given problem statuses as application/problem+json."""
    return {
        status: {
            "model": ProblemDetails,
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }
