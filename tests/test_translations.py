"""French and Spanish texts: UHRI's per-language exports attached, searched, shown and exported.

The English export is a part of the shared UHRI sample (UPR_DATA_DIR; skipped, saying so,
without it). The French and Spanish exports are built here from the same records: same
`AnnotationId`s, the labels as those exports give them, and `Text` replaced by the French and
Spanish sentences below, written for these tests (test data, not OHCHR's published texts).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.core.errors import NotFound, UnprocessableEntity
from app.core.pagination import PageParams
from app.models.translation import RecommendationTranslation
from app.services import recommendations as recommendation_service
from app.services import translations as translation_service
from app.services.recommendation_filters import RecommendationFilters
from tests.conftest import run_cli
from tests.factories import auth, make_key, make_recommendation

SAMPLE = "uhri-export-sample.json"
# Sample records imported in English: the first eleven (one is the Committee on the Rights of the
# Child's, skipped) and two on torture.
ENGLISH = [*range(11), 94, 95]
FRENCH = {
    0: "115.1 Prendre de nouvelles mesures en vue de la ratification de plusieurs traités internationaux relatifs "
    "aux droits de l'homme que la Slovénie a signés depuis le premier cycle de l'EPU (Croatie);",
    1: "115.10 Ratifier la Convention internationale sur la protection des droits de tous les travailleurs "
    "migrants et des membres de leur famille (Bosnie-Herzégovine);",
    5: "<p>115.103 Prendre des mesures juridiques visant à prévenir les crimes à motivation ethnique "
    "(Iran (République islamique d'));</p>",
    94: "115.36 Mettre l'institution nationale des droits de l'homme en conformité avec les Principes de Paris et "
    "élargir son mandat aux enquêtes sur les allégations de torture et de mauvais traitements (Ukraine);",
    # Not imported in English: an unknown id.
    20: "115.118 Poursuivre les efforts de lutte contre la discrimination (Inde);",
}
SPANISH = {
    1: "115.10 Ratificar la Convención Internacional sobre la Protección de los Derechos de Todos los Trabajadores "
    "Migratorios y de sus Familiares (Bosnia y Herzegovina);",
    94: "115.36 Adecuar la institución nacional de derechos humanos a los Principios de París y ampliar su mandato "
    "para investigar las denuncias de tortura y malos tratos (Ucrania);",
    95: "115.37 Crear las condiciones para que el Defensor de los Derechos Humanos obtenga la categoría A conforme "
    "a los Principios de París, ampliando su mandato para recibir denuncias de tortura y abusos (Chile);",
}
FR_0 = (
    "Prendre de nouvelles mesures en vue de la ratification de plusieurs traités internationaux relatifs aux droits "
    "de l'homme que la Slovénie a signés depuis le premier cycle de l'EPU"
)
LABELS = {"fr": ("- EPU", "- Recommandations", "- CDE"), "es": ("- EPU", "- Recomendaciones", "- CDN")}


@pytest.fixture
def sample(settings: Any) -> list[dict[str, Any]]:
    path = Path(settings.UPR_DATA_DIR) / "samples" / SAMPLE
    if not path.exists():
        pytest.skip(f"UHRI sample not found at {path} (UPR_DATA_DIR)")
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records


def rid(sample: list[dict[str, Any]], n: int) -> str:
    return "uhri-" + str(sample[n]["AnnotationId"])


def write(path: Path, records: list[Any]) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def language_export(sample: list[dict[str, Any]], language: str, texts: dict[int, str]) -> list[dict[str, Any]]:
    """The sample's records with these texts, labelled as the export in `language` labels them, and a non-UPR one."""
    body, kind, other = LABELS[language]
    records = [sample[n] | {"Text": text, "Body": body, "AnnotationType": kind} for n, text in texts.items()]
    return [*records, sample[7] | {"Body": other, "Text": "Texte d'un autre organe"}]


@pytest.fixture
def english(session: Session, sample: list[dict[str, Any]], tmp_path: Path) -> list[dict[str, Any]]:
    """The English records imported (11 UPR recommendations, one other body's record skipped)."""
    path = write(tmp_path / "export-full-en.json", [sample[n] for n in ENGLISH])
    summary = recommendation_service.import_recommendations(session, file=path, fmt="uhri", max_rows=1000)
    assert summary.inserted == 12
    return sample


def attach(session: Session, tmp_path: Path, sample: list[dict[str, Any]], language: str, texts: dict[int, str]) -> Any:
    path = write(tmp_path / f"export-full-{language}.json", language_export(sample, language, texts))
    return translation_service.import_translations(session, file=path, language=language, max_rows=1000)


def stored(session: Session) -> dict[tuple[str, str], tuple[str, str]]:
    session.rollback()
    rows = session.execute(select(RecommendationTranslation)).scalars()
    return {(r.recommendation_id, r.language): (r.text, r.source) for r in rows}


# --- the import --------------------------------------------------------------------------------


def test_import_attaches_texts_and_reports_unknown_ids(
    session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    summary = attach(session, tmp_path, english, "fr", FRENCH)
    assert (summary.records, summary.attached, summary.updated, summary.unchanged) == (5, 4, 0, 0)
    assert (summary.unknown, summary.unknown_ids) == (1, [rid(english, 20)])
    assert (summary.skipped, summary.skipped_reasons) == (1, {"not UPR (CDE)": 1})
    texts = stored(session)
    assert len(texts) == 4 and (rid(english, 20), "fr") not in texts
    # The paragraph number, HTML and the recommending State (named in French) are the English import's.
    assert texts[(rid(english, 0), "fr")] == (FR_0, "ohchr_uhri:export-full-fr.json")
    assert (
        texts[(rid(english, 5), "fr")][0]
        == "Prendre des mesures juridiques visant à prévenir les crimes à motivation ethnique"
    )
    # The original stays the original.
    original = recommendation_service.get_recommendation(session, recommendation_id=rid(english, 0))
    assert original.text.startswith("Take further steps for the ratification")


def test_reimport_is_unchanged_and_a_changed_text_is_updated(
    session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    attach(session, tmp_path, english, "fr", FRENCH)
    again = attach(session, tmp_path, english, "fr", FRENCH)
    assert (again.attached, again.updated, again.unchanged, again.unknown) == (0, 0, 4, 1)
    changed = attach(
        session, tmp_path, english, "fr", FRENCH | {1: "115.10 Ratifier la Convention (Bosnie-Herzégovine);"}
    )
    assert (changed.attached, changed.updated, changed.unchanged) == (0, 1, 3)
    assert stored(session)[(rid(english, 1), "fr")][0] == "Ratifier la Convention"
    # The search index follows the changed text.
    assert search(session, "travailleurs migrants") == []
    assert search(session, "Convention Ratifier") == [rid(english, 1)]


def test_dry_run_counts_and_writes_nothing(session: Session, english: list[dict[str, Any]], tmp_path: Path) -> None:
    path = write(tmp_path / "export-full-es.json", language_export(english, "es", SPANISH))
    summary = translation_service.import_translations(session, file=path, language="es", dry_run=True, max_rows=99)
    assert (summary.dry_run, summary.attached) == (True, 3)
    assert stored(session) == {}


def test_bad_records_are_named_and_nothing_is_written(
    session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    records = language_export(english, "fr", FRENCH)
    records[1] = records[1] | {"Text": 42}
    records[3] = records[3] | {"AnnotationId": ""}
    with pytest.raises(UnprocessableEntity) as exc:
        translation_service.import_translations(
            session, file=write(tmp_path / "bad.json", records), language="fr", max_rows=99
        )
    found = [(e["line"], e["field"], e["reason"]) for e in exc.value.extensions["errors"]]
    assert found == [(2, "Text", "must be a string, got int"), (4, "AnnotationId", "is required")]
    assert exc.value.extensions["unit"] == "record"
    assert stored(session) == {}
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(records)[:300], encoding="utf-8")
    with pytest.raises(UnprocessableEntity) as exc:
        translation_service.import_translations(session, file=truncated, language="fr", max_rows=99)
    assert "truncated" in exc.value.extensions["errors"][0]["reason"]
    with pytest.raises(UnprocessableEntity) as exc:
        translation_service.import_translations(session, file=truncated, language="de", max_rows=99)
    assert exc.value.extensions["errors"][0]["loc"] == ["query", "language"]
    assert stored(session) == {}


def test_cli_reports_and_names_the_bad_record(
    english: list[dict[str, Any]], tmp_path: Path, settings: Any, session: Session
) -> None:
    path = write(tmp_path / "export-full-fr.json", language_export(english, "fr", FRENCH))
    result = run_cli(["import-translations", str(path), "--language", "fr"], database_url=settings.DATABASE_URL)
    assert result.exit_code == 0, result.output
    assert "fr: records 5, attached 4, updated 0, unchanged 0, unknown ids 1" in result.output
    assert rid(english, 20) in result.output and "skipped 1 records" in result.output
    bad = write(tmp_path / "bad.json", [english[0] | {"Body": "- EPU", "Text": ["x"]}])
    failed = run_cli(["import-translations", str(bad), "--language", "es"], database_url=settings.DATABASE_URL)
    assert failed.exit_code == 1 and "record 1: Text: must be a string, got list" in failed.output


def test_api_import_takes_the_language_in_the_path(
    client: Any, session: Session, english: list[dict[str, Any]]
) -> None:
    _row, key = make_key(session, role="admin")
    body = json.dumps(language_export(english, "es", SPANISH)).encode()
    headers = {**auth(key), "Content-Type": "application/json"}
    r = client.post("/v1/recommendations/translations/es", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["language"], r.json()["attached"], r.json()["unknown"]) == ("es", 3, 0)
    wrong = client.post(
        "/v1/recommendations/translations/es", content=body, headers={**auth(key), "Content-Type": "text/csv"}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["header", "content-type"]
    assert client.post("/v1/recommendations/translations/de", content=body, headers=headers).status_code == 422


# --- one text at a time (a matrix in French or Spanish) -----------------------------------------


def test_attach_translation_in_the_callers_transaction(session: Session) -> None:
    rec = make_recommendation(session)
    source = "ohchr_thematic_list:A_HRC_40_6_matrix_fr.docx"
    text = "Ratifier le Protocole facultatif se rapportant à la Convention contre la torture."
    assert translation_service.attach_translation(session, rec.id, "fr", text, source) == "attached"
    session.rollback()  # not committed: the caller's transaction decides
    assert stored(session) == {}
    assert translation_service.attach_translation(session, rec.id, "fr", text, source) == "attached"
    assert translation_service.attach_translation(session, rec.id, "fr", f" {text} ", source) == "unchanged"
    assert translation_service.attach_translation(session, rec.id, "fr", "Ratifier le Protocole.", source) == "updated"
    session.commit()
    assert stored(session) == {(rec.id, "fr"): ("Ratifier le Protocole.", source)}
    with pytest.raises(NotFound):
        translation_service.attach_translation(session, "no-such-id", "fr", text, source)
    for language, value, src, field in (
        ("de", text, source, "language"),
        ("es", " ", source, "text"),
        ("es", text, "", "source"),
    ):
        with pytest.raises(UnprocessableEntity) as exc:
            translation_service.attach_translation(session, rec.id, language, value, src)
        assert exc.value.extensions["errors"][0]["loc"] == [field]


# --- search, the API, exports, pages --------------------------------------------------------------


def search(session: Session, q: str, **filters: Any) -> list[str]:
    rows, total = recommendation_service.list_recommendations(
        session, filters=RecommendationFilters(q=q, **filters), page=PageParams(limit=50, offset=0)
    )
    assert total == len(rows)
    return [r.id for r in rows]


def test_search_finds_a_recommendation_by_its_spanish_text(
    session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    assert search(session, "tortura") == []
    attach(session, tmp_path, english, "es", SPANISH)
    attach(session, tmp_path, english, "fr", FRENCH)
    assert sorted(search(session, "tortura")) == sorted([rid(english, 94), rid(english, 95)])
    assert search(session, "tortura abusos") == [rid(english, 95)]
    assert search(session, '"mauvais traitements"') == [rid(english, 94)]
    assert search(session, "tortura", state="SVN") != [] and search(session, "tortura", response="pending") == []
    # English search is as it was, and finds the same two by their English text.
    assert sorted(search(session, "torture")) == sorted([rid(english, 94), rid(english, 95)])
    # A word in both languages' texts counts each recommendation once.
    assert sorted(search(session, "Paris")) == sorted([rid(english, 94), rid(english, 95)])
    facets = recommendation_service.get_facets(session, filters=RecommendationFilters(q="tortura"))
    assert facets.total == 2
    newest, total = recommendation_service.list_recommendations(
        session, filters=RecommendationFilters(q="tortura"), page=PageParams(limit=1, offset=0), sort="newest"
    )
    assert total == 2 and len(newest) == 1


def test_api_shows_the_text_in_the_language_asked(
    client: Any, session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    attach(session, tmp_path, english, "fr", FRENCH)
    first = rid(english, 0)
    plain = client.get(f"/v1/recommendations/{first}").json()
    assert plain["text"].startswith("Take further steps") and "language" not in plain and "languages" not in plain
    french = client.get(f"/v1/recommendations/{first}?lang=fr").json()
    assert (french["text"], french["language"], french["languages"]) == (FR_0, "fr", ["en", "fr"])
    assert (french["original_text"], french["original_language"]) == (plain["text"], "en")
    spanish = client.get(f"/v1/recommendations/{first}?lang=es").json()
    assert (spanish["text"], spanish["language"], spanish["languages"]) == (plain["text"], "en", ["en", "fr"])
    listed = client.get("/v1/recommendations?q=conformit%C3%A9&lang=fr").json()
    assert listed["total"] == 1 and listed["items"][0]["language"] == "fr"
    assert listed["items"][0]["text"].startswith("Mettre l'institution nationale")
    assert all("language" not in item for item in client.get("/v1/recommendations?limit=50").json()["items"])
    bad = client.get(f"/v1/recommendations/{first}?lang=de")
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "lang"]


def test_exports_carry_the_french_and_spanish_texts(
    client: Any, session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    attach(session, tmp_path, english, "fr", FRENCH)
    attach(session, tmp_path, english, "es", SPANISH)
    body = client.get("/v1/recommendations/export?format=csv").text.removeprefix("\ufeff")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(body))}
    assert list(next(csv.reader(io.StringIO(body))))[-2:] == ["text_fr", "text_es"]
    assert (rows[rid(english, 0)]["text_fr"], rows[rid(english, 0)]["text_es"]) == (FR_0, "")
    assert rows[rid(english, 95)]["text_es"].endswith("denuncias de tortura y abusos")
    lines = [json.loads(line) for line in client.get("/v1/recommendations/export?format=jsonl").text.splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert (
        by_id[rid(english, 1)]["text_es"].startswith("Ratificar la Convención")
        and by_id[rid(english, 3)]["text_fr"] is None
    )
    # The export still imports as it is: the translated columns are left aside.
    again = recommendation_service.import_recommendations(
        session, file=io.BytesIO(body.encode()), fmt="csv", max_rows=99
    )
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 12)


def test_pages_show_the_french_text_marked_with_its_language(
    client: Any, session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    attach(session, tmp_path, english, "fr", FRENCH)
    first, untranslated = rid(english, 0), rid(english, 3)
    page = client.get(f"/recommendations/{first}?lang=fr").text
    escaped = FR_0.replace("'", "&#39;")
    assert f'<blockquote class="rec" lang="fr"><p>{escaped}</p></blockquote>' in page
    # `?lang=fr` puts the whole page in French; the original stays one click away, the page still in French.
    link = f"/recommendations/{first}?text=original&amp;lang=fr"
    assert f'<a href="{link}" hreflang="en">Lire l’original (anglais)</a>' in page
    assert '<html lang="fr"' in client.get(link.replace("&amp;", "&")).text
    original = client.get(f"/recommendations/{first}?lang=en").text
    assert '<blockquote class="rec" lang="en"><p>Take further steps' in original
    assert f'href="/recommendations/{first}?lang=fr" hreflang="fr">French</a>' in original
    missing = client.get(f"/recommendations/{untranslated}?lang=fr").text
    assert '<blockquote class="rec" lang="en"><p>That the youth guarantee' in missing
    assert "Les données n’ont pas de texte en français pour cette recommandation" in missing
    listing = client.get("/recommendations?state=SVN&lang=fr&limit=50").text
    assert f'<p lang="fr"><a href="/recommendations/{first}?lang=fr">Prendre de nouvelles mesures' in listing
    assert f'<p lang="en"><a href="/recommendations/{untranslated}?lang=fr">That the youth' in listing
    assert "Pas de texte en français dans les données : l’original anglais est affiché." in listing
    assert '<input type="hidden" name="lang" value="fr">' in listing


def test_deleting_a_recommendation_deletes_its_texts(
    session: Session, english: list[dict[str, Any]], tmp_path: Path
) -> None:
    attach(session, tmp_path, english, "fr", FRENCH)
    row = recommendation_service.get_recommendation(session, recommendation_id=rid(english, 94))
    session.delete(row)
    session.commit()
    assert (rid(english, 94), "fr") not in stored(session)
    assert session.execute(select(func.count()).select_from(RecommendationTranslation)).scalar_one() == 3
    assert search(session, "conformité") == []
