"""Import the UN INFO funding figures: USD required and available per country and SDG.

The file (`uninfo_resources_by_country_and_sdg.json` in the data folder, `UPR_DATA_DIR`) is a
JSON list of `{"country", "sdg", "resources_required", "resources_available"}`. Every row is
checked first and every problem reported at once (row number, field, reason): one bad row and
nothing is written. Rows without an SDG (the framework's unassigned resources) and countries that
are not UN Member States with an ISO code (Kosovo) are skipped and counted, not errors. The import
replaces the previous figures in one transaction, so a reader sees the old set or the new one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Session

from app.core.errors import UnprocessableEntity, field_error
from app.core.jsontypes import JsonObject
from app.models.analytics import FundingResource
from app.models.common import utcnow
from app.reference.countries import resolve_iso3

FUNDING_FILE = "uninfo_resources_by_country_and_sdg.json"
SOURCE = "uninfo"
MAX_ROWS = 100_000


@dataclass(slots=True)
class FundingImport:
    rows_read: int = 0
    imported: int = 0
    countries: int = 0
    skipped_no_sdg: int = 0
    skipped_countries: list[str] = field(default_factory=list)


def _amount(value: object, row: int, name: str, errors: list[JsonObject]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        errors.append(field_error(["body", row, name], "must be a number of USD, 0 or more, or null"))
        return None
    return float(value)


def read_rows(path: Path) -> tuple[list[FundingResource], FundingImport]:
    """Check every row of the file; the rows to store and the counts (422 listing every problem)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnprocessableEntity(f"{path.name} could not be read as JSON: {exc}") from exc
    if not isinstance(data, list):
        raise UnprocessableEntity(f"{path.name} must hold a JSON list of rows, not {type(data).__name__}.")
    if len(data) > MAX_ROWS:
        raise UnprocessableEntity(f"{path.name} has {len(data)} rows; at most {MAX_ROWS} are read.")
    summary = FundingImport(rows_read=len(data))
    errors: list[JsonObject] = []
    rows: dict[tuple[str, int], FundingResource] = {}
    skipped: set[str] = set()
    now = utcnow()
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            errors.append(field_error(["body", n], "each row must be an object"))
            continue
        country = item.get("country")
        if not isinstance(country, str) or not country.strip():
            errors.append(field_error(["body", n, "country"], "a country name is required"))
            continue
        sdg = item.get("sdg")
        if sdg is None:
            summary.skipped_no_sdg += 1
            continue
        if isinstance(sdg, bool) or not isinstance(sdg, int) or not 1 <= sdg <= 17:
            errors.append(field_error(["body", n, "sdg"], "must be an SDG number from 1 to 17, or null"))
            continue
        required = _amount(item.get("resources_required"), n, "resources_required", errors)
        available = _amount(item.get("resources_available"), n, "resources_available", errors)
        state = resolve_iso3(country)
        if state is None:
            skipped.add(country)
            continue
        if (state, sdg) in rows:
            errors.append(field_error(["body", n], f"a second row for {country} and SDG {sdg}"))
            continue
        rows[(state, sdg)] = FundingResource(
            state=state,
            sdg=sdg,
            required=required,
            available=available,
            country_name=country.strip()[:128],
            source=SOURCE,
            imported_at=now,
        )
    if errors:
        raise UnprocessableEntity(
            f"{len(errors)} problem(s) in {path.name}; nothing was imported.", errors=errors[:200]
        )
    summary.skipped_countries = sorted(skipped)
    summary.imported = len(rows)
    summary.countries = len({state for state, _ in rows})
    return list(rows.values()), summary


def import_funding(session: Session, *, path: Path) -> FundingImport:
    """Replace the stored funding figures with the file's, in one transaction."""
    rows, summary = read_rows(path)
    session.execute(delete(FundingResource))
    session.add_all(rows)
    session.commit()
    return summary


__all__ = ["FUNDING_FILE", "FundingImport", "import_funding", "read_rows"]
