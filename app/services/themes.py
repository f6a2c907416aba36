"""The theme tagger in the service: train it, load it, classify texts with it.

The artifact (`MODEL_DIR/theme-tagger.joblib` and its `.json` metadata) is made
by `upr-match train` from the shared data set; the service loads it at start-up
and reports its version in `/health/ready`. Without it the service still runs:
matching then compares declared themes only and `/v1/classify` answers 503.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.config import Settings
from app.core.errors import ServiceUnavailable
from app.core.jsontypes import JsonObject
from app.match_index.ranker import MAIN_SCHEME, lexicon_path
from app.models.common import table_of
from app.reference.themes import theme_index_values
from matching.artifacts import TaggerArtifactError
from matching.crosslingual import apertium_available, build_lexicon
from matching.schemes import Labelled, MultiSchemeTagger
from matching.theme_space import ThemeSpace

if TYPE_CHECKING:
    from sqlmodel import Session

logger = logging.getLogger("app.themes")

ARTIFACT = "theme-tagger.joblib"
#: The label schemes of the shared data (`recommendations.jsonl`), trained when they have enough labels.
SCHEMES = ("upr_info_issues", "uhri", "uhri_legacy_coded", "sdgs", "affected_groups")
#: At most this many recommendations imported from the UHRI export join the `uhri` scheme's training set.
MAX_IMPORTED_ROWS = 60_000
#: A profile's predicted themes: those weighing at least this share of its strongest theme (on the demo
#: profiles, each read with the others as examples, 86% of them are among the profile's declared themes,
#: and they find 55% of those: `python benchmarks/profile_themes.py`).
PROFILE_THEME_MIN = 0.3
#: A need's predicted themes: probability at least this in one of its recommendations (the tagger's own
#: decision threshold is about 0.4).
NEED_THEME_MIN = 0.4
#: At most this many predicted themes are shown.
MAX_PREDICTED = 8


def profile_themes(space: ThemeSpace | None, text: str) -> list[str]:
    """The themes the tagger reads in a provider's profile text, best first (none without a tagger)."""
    found = space.vectors([text], [[]], by_sentence=True) if space is not None else None
    return space.predicted(found[0], minimum=PROFILE_THEME_MIN)[:MAX_PREDICTED] if space and found else []


def recommendation_themes(space: ThemeSpace | None, texts: Sequence[str], fallback: str) -> list[str]:
    """The themes the tagger reads in a need's recommendations (``fallback`` text if none), best first."""
    vec = space.vector(fallback, [], parts=list(texts) or None) if space is not None else None
    return space.predicted(vec, minimum=NEED_THEME_MIN)[:MAX_PREDICTED] if space is not None else []


def artifact_path(settings: Settings) -> Path:
    return settings.MODEL_DIR / ARTIFACT


def _records(path: Path) -> Iterator[JsonObject]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def labels_for_scheme(record: Mapping[str, Any], scheme: str) -> list[str] | None:
    """The labels of a shared-data record in `scheme`, or None if the record is not labelled in it.

    `upr_info_issues`, `uhri` and `uhri_legacy_coded` read `themes` when `theme_scheme`
    matches; `sdgs` gives "SDG <n>"; `affected_groups` is case-folded (the sources spell
    groups inconsistently, e.g. "Children" / "children").
    """
    if scheme in ("upr_info_issues", "uhri", "uhri_legacy_coded"):
        if record.get("theme_scheme") == scheme and record.get("themes"):
            return list(record["themes"])
        return None
    if scheme == "sdgs":
        return [f"SDG {int(n)}" for n in record.get("sdgs") or []] or None
    if scheme == "affected_groups":
        groups = sorted({" ".join(str(g).casefold().split()) for g in record.get("affected_groups") or []})
        return groups or None
    raise ValueError(f"unknown scheme {scheme!r}; known: {SCHEMES}")


def labelled_by_scheme(records: Iterable[Mapping[str, Any]], schemes: Sequence[str] = SCHEMES) -> dict[str, Labelled]:
    """Per scheme, the records' texts with their labels in it, grouped by State under Review."""
    found: dict[str, tuple[list[str], list[list[str]], list[str | None]]] = {s: ([], [], []) for s in schemes}
    for record in records:
        if not record.get("text"):
            continue
        for scheme in schemes:
            labels = labels_for_scheme(record, scheme)
            if labels:
                texts, label_lists, groups = found[scheme]
                texts.append(record["text"])
                label_lists.append(labels)
                groups.append(record.get("state_under_review_iso3"))
    return {scheme: Labelled(*parts) for scheme, parts in found.items()}


def imported_uhri_records(
    session: Session, known: Iterable[str], *, limit: int = MAX_IMPORTED_ROWS
) -> list[JsonObject]:
    """Records imported from the UHRI export with OHCHR themes, whose texts the training file lacks.

    They make the `uhri` scheme's training set: a few hundred rows in the shared file,
    over a hundred thousand once the full export is imported (at most `limit`, the first
    by id, so training stays within minutes and gives the same model for the same data).
    """
    from sqlalchemy import select

    from app.models.recommendation import Recommendation
    from matching.linking import normalise_text

    seen = {normalise_text(text) for text in known}
    table = table_of(Recommendation)
    rows = session.execute(
        # The source's own labels: what the tagger learnt before the labels were normalised, so it learns the same.
        select(table.c.id, table.c.text, table.c.themes_source, table.c.state_under_review)
        .where(table.c.source == "ohchr_uhri", table.c.theme_scheme == "uhri", table.c.themes_predicted.is_(False))
        .order_by(table.c.id)
    )
    found: list[JsonObject] = []
    for rid, text, themes, state in rows:
        key = normalise_text(text)
        if themes and key not in seen:
            seen.add(key)
            found.append(
                {"id": rid, "text": text, "themes": themes, "theme_scheme": "uhri", "state_under_review_iso3": state}
            )
            if len(found) >= limit:
                break
    return found


def train(
    settings: Settings, *, data_file: Path | None = None, session: Session | None = None
) -> tuple[MultiSchemeTagger, Path, JsonObject]:
    """Train every scheme with enough labels on the shared data and write the artifact.

    With a database `session`, the recommendations imported from OHCHR's UHRI export
    (their `uhri` themes) are learnt too, so that scheme grows with the data loaded.
    """
    source = data_file or settings.UPR_DATA_DIR / "recommendations.jsonl"
    if not source.is_file():
        raise FileNotFoundError(f"no training data at {source}; set UPR_DATA_DIR")
    file_digest = hashlib.sha256(source.read_bytes())
    records = list(_records(source))
    imported = imported_uhri_records(session, (r.get("text") or "" for r in records)) if session is not None else []
    for record in imported:
        file_digest.update(f"\n{record['id']}".encode())
    digest = file_digest.hexdigest()
    started = time.perf_counter()
    tagger = MultiSchemeTagger(main_scheme=MAIN_SCHEME).fit(labelled_by_scheme(records + imported))
    seconds = time.perf_counter() - started
    path = tagger.save(artifact_path(settings))
    info = {
        "seconds": round(seconds, 1),
        "data_file": str(source),
        "data_sha256": digest,
        "schemes": {s: tagger[s].metadata_.get("version") for s in tagger.schemes},
        "skipped": dict(tagger.skipped_),
        "imported_uhri_rows": len(imported),
    }
    return tagger, path, info


#: Recommendations the cross-language lexicon is built from (the first ones of the data file): about a minute.
LEXICON_TEXTS = 12_000


def lexicon_file(settings: Settings) -> Path:
    """Where the cross-language lexicon is (beside the tagger)."""
    return lexicon_path(settings)


def train_lexicon(settings: Settings, *, data_file: Path | None = None) -> tuple[Path | None, str]:
    """Build the cross-language lexicon with Apertium from the shared recommendations and write it beside the
    tagger; (its path, what it holds), or (None, why not) when Apertium or the data is missing."""
    missing = apertium_available()
    if missing:
        return None, missing
    source = data_file or settings.UPR_DATA_DIR / "recommendations.jsonl"
    if not source.is_file():
        return None, f"no recommendations at {source}; set UPR_DATA_DIR"
    texts = [str(r["text"]) for r in _records(source) if r.get("text")][:LEXICON_TEXTS]
    lexicon = build_lexicon(texts, progress=lambda message: logger.info("lexicon: %s", message))
    path = lexicon.save(lexicon_path(settings))
    counts = ", ".join(f"{language} {len(lexicon.words[language]):,} words" for language in lexicon.languages)
    return path, f"from {len(texts):,} recommendations: {counts}"


def load(settings: Settings) -> MultiSchemeTagger | None:
    """The trained tagger, or None (logged) when there is none or it cannot be read."""
    path = artifact_path(settings)
    if not path.is_file():
        logger.warning("no theme tagger at %s: run `upr-match train`; matching uses declared themes only", path)
        return None
    started = time.perf_counter()
    try:
        tagger = MultiSchemeTagger.load(path)
    except TaggerArtifactError as exc:
        logger.error("theme tagger not loaded: %s", exc)
        return None
    logger.info("theme tagger %s loaded in %.0f ms", version_of(tagger), (time.perf_counter() - started) * 1000)
    return tagger


def version_of(tagger: MultiSchemeTagger | None) -> str | None:
    if tagger is None:
        return None
    return str(tagger[MAIN_SCHEME].metadata_.get("version"))


def classify(tagger: MultiSchemeTagger | None, *, text: str, scheme: str, top: int) -> JsonObject:
    """Themes of `text` with probabilities, best first; `predicted` marks those over the tagger's threshold."""
    if tagger is None:
        raise ServiceUnavailable("No theme tagger is loaded; an administrator runs `upr-match train`.")
    if scheme not in tagger.schemes:
        from app.core.errors import UnprocessableEntity, field_error

        raise UnprocessableEntity(
            f"No tagger for scheme {scheme!r}.",
            errors=[field_error(["body", "scheme"], f"one of {', '.join(tagger.schemes)}")],
        )
    model = tagger[scheme]
    ranked = model.predict_proba([text], top=top)[0]
    chosen = set(model.predict([text])[0])
    return {
        "scheme": scheme,
        "model_version": str(model.metadata_.get("version")),
        "themes": [{"theme": t, "probability": round(float(p), 4), "predicted": t in chosen} for t, p in ranked],
    }


def tag_unthemed(session: Session, tagger: MultiSchemeTagger | None, *, batch: int = 2000) -> int:
    """Give recommendations that have no themes the tagger's predicted ones, marked `themes_predicted`.

    Human labels are never touched: only rows with no theme scheme and no theme at
    all are tagged. The
    stored content hash is left as it is, so re-importing the same file still
    changes nothing; a re-import that changes a row clears its themes, and the
    next tagging run predicts them again. Returns how many rows were tagged.
    """
    from sqlalchemy import exists, insert, update
    from sqlmodel import col, select

    from app.models.recommendation import Recommendation, RecommendationTheme

    if tagger is None:
        return 0
    model = tagger[MAIN_SCHEME]
    tagged = 0
    while True:
        rows = session.exec(
            select(Recommendation.id, Recommendation.text)
            # No scheme and no theme row: the source gave no themes at all.
            .where(col(Recommendation.theme_scheme).is_(None))
            .where(~exists().where(col(RecommendationTheme.recommendation_id) == col(Recommendation.id)))
            .where(col(Recommendation.themes_predicted).is_(False))
            .order_by(col(Recommendation.id))
            .limit(batch)
        ).all()
        if not rows:
            break
        predictions = model.predict([text for _, text in rows])
        for (rec_id, _), themes in zip(rows, predictions, strict=True):
            session.execute(
                update(Recommendation)
                .where(col(Recommendation.id) == rec_id)
                .values(themes=list(themes), theme_scheme=MAIN_SCHEME, themes_predicted=True)
            )
            if themes:
                session.execute(
                    insert(RecommendationTheme),
                    [{"recommendation_id": rec_id, "theme": t} for t in theme_index_values(themes)],
                )
        session.commit()
        tagged += len(rows)
    if tagged:
        logger.info("predicted themes for %d recommendations without themes", tagged)
    return tagged
