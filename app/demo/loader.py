"""Load the demo data, idempotently: running it twice changes nothing the second time.

1. The shared recommendations (`UPR_DATA_DIR/recommendations.jsonl`), upserted by id.
2. Provider profiles from `app/demo/providers.json`, upserted by slug and flagged
   `is_demo` (the project wrote them from public mandates; the organisations did
   not register them).
3. Demo needs for a few States, drafted from each State's real supported
   recommendations (the largest theme groups), flagged `is_demo`.
4. Cooperation activities from `app/demo/activities.json`: real, public examples
   (who helped which State with what), written in our own words, each naming its
   public source and flagged `is_demo`. Nothing the source does not state is added;
   they cite recommendations only where the source says which.
5. A local admin key, created once and kept in `var/admin_key` (mode 0600) so
   `make run` can print it again; a revoked or missing one is replaced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from app.core.errors import Problem
from app.core.identity import Principal
from app.core.jsontypes import JsonObject
from app.match_index.ranker import MAIN_SCHEME, ranking_space
from app.models.activity import ActivityCreate
from app.models.api_key import ApiKeyCreate
from app.models.need import Need, NeedCreate
from app.models.provider import Provider, ProviderCreate, ProviderUpdate
from app.services import activities as activity_service
from app.services import demo as demo_service
from app.services import drafts as draft_service
from app.services import keys as key_service
from app.services import needs as need_service
from app.services import providers as provider_service
from app.services.analytics.funding import FUNDING_FILE, FundingImport, import_funding
from app.services.imports import import_and_tag
from matching import draft_groups
from matching.schemes import MultiSchemeTagger
from matching.theme_space import ThemeSpace

PROVIDERS_FILE = Path(__file__).resolve().parent / "providers.json"
ACTIVITIES_FILE = Path(__file__).resolve().parent / "activities.json"
# One State per UN regional group, each with many supported recommendations in the shared data.
DEMO_STATES = ("MEX", "LSO", "KHM", "GEO", "SVN")
NEEDS_PER_STATE = 2
NEED_MAX_RECOMMENDATIONS = 12
ADMIN = Principal(role="admin", name="demo loader")
PROFILE_FIELDS = (
    "name",
    "acronym",
    "kind",
    "description",
    "themes",
    "sdgs",
    "countries",
    "regions",
    "languages",
    "modalities",
    "website",
)

Progress = Callable[[str, int, int | None], None]


@dataclass
class DemoSummary:
    recommendations: dict[str, int] = field(default_factory=dict)
    providers_created: int = 0
    providers_updated: int = 0
    providers_unchanged: int = 0
    needs_created: int = 0
    needs_existing: int = 0
    activities_created: int = 0
    activities_existing: int = 0
    admin_key: str = ""
    admin_key_created: bool = False
    example_need_id: str | None = None
    funding: FundingImport | None = None
    notes: list[str] = field(default_factory=list)


def load_demo(
    session: Session,
    *,
    data_dir: Path,
    key_file: Path,
    max_rows: int,
    tagger: MultiSchemeTagger | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Load everything; safe to run again. With a tagger, recommendations without themes get predicted ones."""
    summary = DemoSummary()
    recs_file = data_dir / "recommendations.jsonl"
    if recs_file.is_file():
        result = import_and_tag(
            session, tagger=tagger, file=recs_file, fmt="jsonl", dry_run=False, max_rows=max_rows, progress=progress
        )
        summary.recommendations = {
            "read": result.rows_read,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "themes_predicted": result.themes_predicted,
        }
    else:
        summary.notes.append(f"no recommendations file at {recs_file}: set UPR_DATA_DIR (see docs/data.md)")
    space = ranking_space(tagger[MAIN_SCHEME] if tagger is not None else None)
    load_providers(session, summary, space)
    load_needs(session, summary, space)
    load_activities(session, summary)
    funding_file = data_dir / FUNDING_FILE
    if funding_file.is_file():
        summary.funding = import_funding(session, path=funding_file)
    else:
        summary.notes.append(f"no funding file at {funding_file}: the funding context stays empty")
    summary.admin_key, summary.admin_key_created = ensure_admin_key(session, key_file)
    summary.example_need_id = demo_service.first_demo_need(session)
    return summary


def load_providers(session: Session, summary: DemoSummary, space: ThemeSpace | None = None) -> None:
    """Upsert the provider profiles by slug; `relevance` is evaluation ground truth and is not loaded."""
    profiles = json.loads(PROVIDERS_FILE.read_text(encoding="utf-8"))
    existing = demo_service.providers_by_slug(session)
    for profile in profiles:
        values = {name: profile[name] for name in PROFILE_FIELDS}
        row = existing.get(profile["slug"])
        if row is None:
            row = provider_service.create_provider(
                session, principal=ADMIN, data=ProviderCreate(**values, slug=profile["slug"]), theme_space=space
            )
            summary.providers_created += 1
        else:
            changed = {
                k: v for k, v in ProviderUpdate(**values).model_dump(exclude_unset=True).items() if getattr(row, k) != v
            }
            if changed:
                row = provider_service.update_provider(
                    session,
                    principal=ADMIN,
                    provider_id=row.id,
                    data=ProviderUpdate(**changed),
                    expected=frozenset({row.version}),
                    theme_space=space,
                )
                summary.providers_updated += 1
            else:
                summary.providers_unchanged += 1
        if not row.is_demo:
            demo_service.flag_demo(session, Provider, row.id)


def load_needs(session: Session, summary: DemoSummary, space: ThemeSpace | None = None) -> None:
    """File the largest drafted needs of each demo State, unless a demo need of that title exists."""
    for state in DEMO_STATES:
        recs = demo_service.supported_recommendations(session, state)
        if not recs:
            summary.notes.append(f"no supported recommendations for {state}: its demo needs were skipped")
            continue
        drafts = [g for g in draft_groups(draft_service.draft_inputs(recs)) if g.theme != "Other"]
        # A large theme is split into several drafts; one demo need per theme is enough.
        by_theme = {g.theme: g for g in reversed(drafts)}
        firsts = [g for g in drafts if by_theme.get(g.theme) is g]
        for group in firsts[:NEEDS_PER_STATE]:
            ids = list(group.recommendation_ids[:NEED_MAX_RECOMMENDATIONS])
            title = f"{group.theme}: technical cooperation for {len(ids)} supported recommendations"
            found = demo_service.need_titled(session, state, title)
            if found is not None:
                summary.needs_existing += 1
                continue
            need = need_service.create_need(
                session,
                principal=ADMIN,
                data=NeedCreate(
                    state=state,
                    title=title,
                    description=(
                        "Demo need drafted by upr-match from this State's supported recommendations on "
                        f"{group.theme}; it is illustrative, not filed by the State."
                    ),
                    recommendation_ids=ids,
                ),
                theme_space=space,
            )
            demo_service.flag_demo(session, Need, need.id)
            summary.needs_created += 1


def source_line(source: JsonObject) -> str:
    """ "Source: UPR Info, “Title” (12 July 2024), https://..." from an activity's `source`."""
    parts = [str(source["publisher"]), f"“{source['title']}”"]
    if source.get("date"):
        parts[-1] += f" ({source['date']})"
    line = "Source: " + ", ".join(parts)
    return line + (f", {source['url']}" if source.get("url") else "") + "."


def load_activities(session: Session, summary: DemoSummary) -> None:
    """Record the public cooperation examples, unless an activity of that provider, State and title exists."""
    entries = json.loads(ACTIVITIES_FILE.read_text(encoding="utf-8"))
    providers = demo_service.providers_by_slug(session)
    for entry in entries:
        provider = providers.get(entry["provider_slug"])
        if provider is None:
            summary.notes.append(f"no provider {entry['provider_slug']!r}: the activity {entry['title']!r} was skipped")
            continue
        found = demo_service.activity_titled(session, provider.id, entry["state"], entry["title"])
        if found is not None:
            summary.activities_existing += 1
            continue
        data = ActivityCreate(
            provider_id=provider.id,
            state=entry["state"],
            title=entry["title"],
            description=f"{entry['description']}\n\n{source_line(entry['source'])}",
            modality=entry["modality"],
            status=entry["status"],
            start_date=entry["start_date"],
            end_date=entry["end_date"],
            funding_source=entry["funding_source"],
            outcomes=entry["outcomes"],
            recommendation_ids=entry["recommendation_ids"],
        )
        activity_service.create_activity(session, principal=ADMIN, data=data, is_demo=True)
        summary.activities_created += 1


def ensure_admin_key(session: Session, key_file: Path) -> tuple[str, bool]:
    """Return the local admin key from `key_file`, creating (and saving) one if it is missing or revoked."""
    if key_file.is_file():
        key = key_file.read_text(encoding="utf-8").strip()
        try:
            if key_service.authenticate(session, key).is_admin:
                return key, False
        except Problem:
            pass
    _, key = key_service.create_key(
        session, data=ApiKeyCreate(name="local admin (make run)", role="admin"), actor=ADMIN
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key, True
