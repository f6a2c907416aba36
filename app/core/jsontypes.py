"""The one name for JSON whose shape is open."""

from __future__ import annotations

from typing import Any

# A JSON object whose values are arbitrary JSON: an event's data, an audit detail, a record being
# imported, an OpenAPI fragment. Values are Any because JSON nests without bound; where the keys are
# known, a TypedDict or a model says so instead.
JsonObject = dict[str, Any]
