"""OHCHR's matrix of recommendations (thematic list): .docx, and the same as .txt and .pdf.

The two real China matrices in UPR_DATA_DIR/samples are imported whole (skipped,
saying so, without them); small matrices are built here with python-docx for the
review options and every bad input. The .txt and .pdf forms are written from the
real .docx in the test: the text cell by cell (as Word's "save as text" lays a
table out), and a PDF of that text with fpdf2 (a test-only dependency).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from app.core.errors import UnprocessableEntity
from app.importing import detect_format
from app.models.recommendation import Recommendation
from app.services import recommendations as service

CHINA_3 = "ohchr-matrix-CHN-cycle3-2018.docx"
CHINA_2 = "ohchr-matrix-CHN-cycle2-2013.docx"
TITLE = "UPR of China (3rd Cycle \u2013 31st session)\t\tThematic list of recommendations\t\tPage 1 of 1"
HEADER = ("Recommendation", "Position", "Full list of themes", "Assessment/comments on level of implementation")
THEMES = "A12 Acceptance of international norms\nS16 SDG 16 - peace, justice and strong institutions\n"
GROUPS = "Affected persons:\n- general\n- children"
LATIN_1 = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-"})


def cell(paragraph: str, text: str, states: str = "(France)", source: str = "A/HRC/40/6/Add.1 - Para. 2") -> str:
    return f"{paragraph} {text} {states};\nSource of position: {source}"


def make_matrix(
    path: Path,
    rows: Sequence[tuple[str, ...] | str],
    *,
    title: str | None = TITLE,
    header: Sequence[str] = HEADER,
) -> Path:
    """A matrix as OHCHR lays it out: page header, one table, "Theme:" heading rows (given as a str)."""
    document = docx.Document()
    if title is not None:
        document.sections[0].header.paragraphs[0].text = title
    table = document.add_table(rows=1, cols=len(header))
    for target, text in zip(table.rows[0].cells, header, strict=True):
        target.text = text
    for row in rows:
        cells = table.add_row().cells
        if isinstance(row, str):
            merged = cells[0].merge(cells[-1])
            merged.text = row
            continue
        for target, text in zip(cells, row, strict=False):
            target.text = text
    document.save(str(path))
    return path


def good_rows(n: int = 2) -> list[tuple[str, ...] | str]:
    rows: list[tuple[str, ...] | str] = ["Theme: A12 Acceptance of international norms"]
    for i in range(1, n + 1):
        rows.append((cell(f"28.{i}", f"Ratify treaty number {i}"), "Supported", THEMES + GROUPS, ""))
    return rows


def run(session: Session, path: Path | io.BytesIO, fmt: str = "auto", **kw: Any) -> Any:
    return service.import_recommendations(session, file=path, fmt=fmt, max_rows=500_000, **kw)


def count(session: Session) -> int:
    session.rollback()
    return int(session.execute(select(func.count()).select_from(Recommendation)).scalar_one())


def rejected(session: Session, path: Path, **kw: Any) -> list[tuple[int, str, str]]:
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path, **kw)
    return [(e["line"], e["field"], e["reason"]) for e in exc.value.extensions["errors"]]


def sample(settings: Any, name: str) -> Path:
    path = Path(settings.UPR_DATA_DIR) / "samples" / name
    if not path.exists():
        pytest.skip(f"matrix sample not found at {path} (UPR_DATA_DIR)")
    return path


def as_text(path: Path) -> str:
    """The matrix as text: the page header, then every cell of every row on its own lines."""
    document = docx.Document(str(path))
    lines = [p.text for p in document.sections[0].header.paragraphs]
    for row in document.tables[0].rows:
        seen: list[str] = []
        for c in row.cells:
            if c.text not in seen:  # merged heading cells repeat
                seen.append(c.text)
        lines.extend(seen)
    return "\n".join(lines) + "\n"


def stored(session: Session) -> dict[str, tuple[Any, ...]]:
    session.rollback()
    rows = session.execute(select(Recommendation)).scalars()
    return {
        r.id: (r.paragraph, r.text, r.recommending_states, r.response, r.themes, r.sdgs, r.affected_groups)
        for r in rows
    }


# --- the real matrices -------------------------------------------------------------------------


def test_china_2018_matrix_imports_346_with_positions_themes_and_groups(session: Session, settings: Any) -> None:
    path = sample(settings, CHINA_3)
    assert detect_format(path) == "matrix"
    summary = run(session, path)
    assert (summary.format, summary.rows_read, summary.inserted, summary.rejected) == ("matrix", 346, 346, 0)
    rows = list(session.execute(select(Recommendation)).scalars())
    assert len(rows) == 346
    assert {(r.state_under_review, r.cycle, r.session, r.source) for r in rows} == {
        ("CHN", 3, 31, "ohchr_thematic_list")
    }
    assert {r.response for r in rows} == {"supported", "noted"}
    assert all(r.themes and r.affected_groups and r.recommending_states for r in rows)
    assert sum(1 for r in rows if r.sdgs) == 297  # the rows with an "S<n>" theme line (the others: none or "S")
    joint = session.get(Recommendation, "3-CHN-28.4")
    assert joint is not None
    assert joint.recommending_states == ["NZL", "URY", "MLI"]
    assert joint.text.startswith("Continue working towards ratification")
    assert "; Accelerate the ratification" in joint.text
    assert joint.source_document == "A/HRC/40/6/Add.1 - Para. 2"
    # Stored as the controlled label of the code the matrix prints; the matrix's own spelling is kept beside it.
    assert joint.themes[0] == "Acceptance of international norms" and joint.theme_scheme == "uhri_coded"
    assert joint.themes_source[0] == "A12 Acceptance of international norms"
    assert joint.sdgs == [16] and joint.affected_groups == ["General"]
    again = run(session, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 346)


def test_china_2013_matrix_imports_252_even_with_typesetting_breaks(session: Session, settings: Any) -> None:
    summary = run(session, sample(settings, CHINA_2))
    assert (summary.inserted, summary.rejected) == (252, 0)
    rows = {r.id: r for r in session.execute(select(Recommendation)).scalars()}
    assert {(r.cycle, r.session) for r in rows.values()} == {(2, 17)}
    assert all(r.response in ("supported", "noted") and r.themes and r.affected_groups for r in rows.values())
    # "(Bolivia (Plurinational S tate of))": a word broken by a space is still Bolivia, named as printed.
    bolivia = rows["2-CHN-186.198"]
    assert bolivia.recommending_states == ["BOL"] and bolivia.recommending_state_names[0].endswith("S tate of)")
    assert rows["2-CHN-186.28"].source_document == "A/HRC/25/5/Add.1 - Para. 186.28."
    assert run(session, sample(settings, CHINA_2)).unchanged == 252


def test_text_and_pdf_forms_give_the_same_records(session: Session, settings: Any, tmp_path: Path) -> None:
    from fpdf import FPDF

    path = sample(settings, CHINA_3)
    run(session, path)
    from_docx = stored(session)
    text = as_text(path)
    txt = tmp_path / "matrix.txt"
    txt.write_text(text, encoding="utf-8")
    summary = run(session, txt)
    assert (summary.format, summary.rows_read, summary.unchanged) == ("matrix", 346, 346)  # same ids, same content

    # fpdf2's core fonts are Latin-1: the few curly quotes and dashes become their ASCII twins.
    plain = text.translate(LATIN_1)
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    for line in plain.splitlines():
        pdf.multi_cell(0, 4, line.replace("\t", " ").encode("latin-1", "replace").decode("latin-1") or " ")
        pdf.set_x(pdf.l_margin)
    pdf_path = tmp_path / "matrix.pdf"
    pdf.output(str(pdf_path))
    assert pdf.page_no() > 20  # long lines were wrapped over many pages
    session.execute(Recommendation.__table__.delete())  # type: ignore[attr-defined]
    session.commit()
    summary = run(session, pdf_path)
    assert summary.inserted == 346
    from_pdf = stored(session)
    assert from_pdf.keys() == from_docx.keys()
    for rid, fields in from_docx.items():
        paragraph, body, states, response, themes, sdgs, groups = from_pdf[rid]
        assert (paragraph, states, response, sdgs, groups) == (fields[0], fields[2], fields[3], fields[5], fields[6])
        assert " ".join(body.split()) == " ".join(fields[1].translate(LATIN_1).split())
        assert len(themes) == len(fields[4])


def test_a_uhri_record_of_the_same_recommendation_is_linked_not_duplicated(
    session: Session, settings: Any, tmp_path: Path
) -> None:
    path = sample(settings, CHINA_3)
    run(session, path)
    matrix_row = docx.Document(str(path)).tables[0].rows[2].cells  # the first recommendation, as published
    published = matrix_row[0].text.split("\nSource of position")[0]
    paragraph = published.split()[0]
    export = [
        {
            "AffectedPersons": ["General"],
            "AnnotationId": "9b0c1a51-1111-4000-8000-000000000001",
            "AnnotationType": "- Recommendations",
            "Body": "- UPR",
            "Countries": ["China"],
            "PublicationDate": "2019-02-28T00:00:00",
            "Sdgs": ["16 - Peace, justice and strong institutions"],
            "Symbol": "A/HRC/40/6",
            "Text": f"<p>{published}</p>",
            "Themes": ["Acceptance of international norms"],
            "UprCycle": "3",
            "UprPositions": [matrix_row[1].text],
            "UprRecommendingCountry": [],
            "UprSession": ["31"],
        }
    ]
    export_path = tmp_path / "export-full-en.json"
    export_path.write_text(json.dumps(export), encoding="utf-8")
    summary = run(session, export_path)
    assert (summary.inserted, summary.linked) == (1, 1)
    copy = session.get(Recommendation, f"3-CHN-{paragraph}")
    assert copy is not None
    assert (copy.canonical_id, copy.link_method) == ("uhri-9b0c1a51-1111-4000-8000-000000000001", "exact")
    counted = session.execute(
        select(func.count()).select_from(Recommendation).where(Recommendation.canonical_id.is_(None))  # type: ignore[union-attr]
    ).scalar_one()
    assert counted == 346  # the recommendation counts once, as the UHRI record
    assert run(session, path).unchanged == 346  # importing the matrix again keeps the link
    session.refresh(copy)
    assert copy.canonical_id is not None


def test_the_format_is_told_by_name_and_content(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path / "m.pdf", b"anything")) == "matrix"
    assert detect_format(io.BytesIO(b"PK\x03\x04...")) == "matrix"
    assert detect_format(io.BytesIO(b"%PDF-1.7\n")) == "matrix"
    assert detect_format(io.BytesIO(b"28.1 Ratify it (France);\nSource of position: A/HRC/40/6\n")) == "matrix"
    assert detect_format(write(tmp_path / "notes.txt", b"some notes")) == "matrix"
    assert detect_format(write(tmp_path / "export.txt", b"[{}]")) == "uhri"
    assert detect_format(write(tmp_path / "rows.csv", b"To,To-Rgrp\n")) == "csv"


# --- the review: from the document or the options ----------------------------------------------


def test_the_review_comes_from_the_options_when_the_document_lacks_it(session: Session, tmp_path: Path) -> None:
    path = make_matrix(tmp_path / "untitled.docx", good_rows(), title=None)
    errors = rejected(session, path)
    assert errors[0][:2] == (1, "review")
    assert "untitled.docx" in errors[0][2] and "give the `state` option, the `session` option" in errors[0][2]
    summary = run(session, path, state="CHN", review_session=31)
    assert summary.inserted == 2
    row = session.get(Recommendation, "3-CHN-28.1")
    assert row is not None and (row.cycle, row.session, row.state_under_review_name) == (3, 31, "China")


def test_a_state_the_header_names_wrongly_can_be_given(session: Session, tmp_path: Path) -> None:
    path = make_matrix(tmp_path / "m.docx", good_rows(1), title="UPR of Atlantis (3rd Cycle \u2013 31st session)")
    errors = rejected(session, path)
    assert "'Atlantis' is not a State the importer knows; give the `state` option" in errors[0][2]
    assert run(session, path, state="China").inserted == 1
    assert session.get(Recommendation, "3-CHN-28.1") is not None


def test_the_table_header_repeated_at_a_page_break_is_skipped(session: Session, tmp_path: Path) -> None:
    text = as_text(make_matrix(tmp_path / "m.docx", good_rows(2)))
    text = text.replace("- children\n", "- children\nRecommendation\nPosition\nFull list of themes\n", 1)
    summary = run(session, write(tmp_path / "m.txt", text.encode()))
    assert summary.inserted == 2
    row = session.get(Recommendation, "3-CHN-28.1")
    assert row is not None and row.affected_groups == ["General", "Children"] and len(row.themes) == 1


def test_an_option_that_contradicts_the_document_is_refused(session: Session, tmp_path: Path) -> None:
    path = make_matrix(tmp_path / "m.docx", good_rows())
    errors = rejected(session, path, review_session=30)
    assert "31st session" in errors[0][2] and "the `session` option says 30" in errors[0][2]
    with pytest.raises(UnprocessableEntity, match="apply to a matrix of recommendations only"):
        run(session, path, fmt="jsonl", state="CHN")
    assert count(session) == 0


def test_spaces_inside_the_attribution_parentheses(session: Session, tmp_path: Path) -> None:
    text = as_text(make_matrix(tmp_path / "m.docx", good_rows(1)))
    text = text.replace("(France);", "( Mongolia ) ;")
    path = tmp_path / "m.txt"
    path.write_text(text, encoding="utf-8")
    run(session, path)
    row = session.get(Recommendation, "3-CHN-28.1")
    assert row is not None and row.recommending_states == ["MNG"] and row.text == "Ratify treaty number 1"


# --- bad input: one error naming file, row and paragraph, nothing written, old data served ------


def _pdf(tmp_path: Path, *, text: bool, password: str | None = None, owner: str | None = None) -> Path:
    from pypdf import PdfWriter

    if text:
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 4, "28.1 Ratify the treaty (France);\nSource of position: A/HRC/40/6/Add.1\nSupported")
        data = bytes(pdf.output())
        writer = PdfWriter(clone_from=io.BytesIO(data))
    else:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)  # a scan's page: an image, no text
    if password is not None or owner:
        writer.encrypt(user_password=password or "", owner_password=owner or password, algorithm="AES-128")
    path = tmp_path / ("locked.pdf" if password else "restricted.pdf" if owner else "scan.pdf" if not text else "m.pdf")
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_FILES = {
    "wrong table": (
        lambda d: make_matrix(d / "wrong.docx", [("Fiji", "12")], header=("Country", "Count")),
        "row",
        (1, "file", "wrong.docx has no table with the columns Recommendation, Position and Full list of themes"),
    ),
    "no position": (
        lambda d: make_matrix(d / "m.docx", [*good_rows(), (cell("28.3", "Abolish it"), "", THEMES)]),
        "row",
        (5, "position", "paragraph 28.3 has no position; expected Supported or Noted"),
    ),
    "unknown State": (
        lambda d: make_matrix(d / "m.docx", [(cell("28.7", "Do it", "(Atlantis)"), "Noted", THEMES)]),
        "row",
        (2, "recommending_states", "paragraph 28.7: no recommending State the importer knows"),
    ),
    "no position nor source in text": (
        lambda d: write(
            d / "m.txt",
            as_text(make_matrix(d / "m.docx", good_rows(3)))
            .replace("Source of position: A/HRC/40/6/Add.1 - Para. 2\nSupported\n", "", 1)
            .encode(),
        ),
        "line",
        (7, "source_of_position", "paragraph 28.1 has no 'Source of position: <symbol> - Para. N' line"),
    ),
    "not a zip": (
        lambda d: write(d / "fake.docx", b"28.1 Not really a Word file"),
        "row",
        (1, "file", "fake.docx is not a Word document: a .docx is a zip archive and this file is not one"),
    ),
    "empty": (
        lambda d: write(d / "empty.txt", b""),
        "line",
        (1, "file", "empty.txt is empty; expected a matrix of recommendations (.docx, .pdf or .txt)"),
    ),
    "scanned PDF": (
        lambda d: _pdf(d, text=False),
        "line",
        (1, "file", "scan.pdf has no text to read (a scanned document?)"),
    ),
    "password": (
        lambda d: _pdf(d, text=True, password="secret"),
        "line",
        (1, "file", "locked.pdf is password-protected"),
    ),
    "text in another layout": (
        lambda d: write(d / "notes.txt", b"UPR of China (3rd Cycle - 31st session)\nSome notes\n"),
        "line",
        (1, "file", "notes.txt holds no recommendation; expected the matrix of recommendations laid out as text"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_names_file_row_and_expectation_and_writes_nothing(
    session: Session, tmp_path: Path, case: str
) -> None:
    good = make_matrix(tmp_path / "good.docx", good_rows())
    run(session, good)
    before = stored(session)
    build, unit, (line, field, reason) = BAD_FILES[case]
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    path = build(bad_dir)
    with pytest.raises(UnprocessableEntity) as exc:
        run(session, path)
    errors = [(e["line"], e["field"], e["reason"]) for e in exc.value.extensions["errors"]]
    assert exc.value.extensions["unit"] == unit
    assert any(e[:2] == (line, field) and reason in e[2] for e in errors), errors
    assert stored(session) == before  # nothing written; the previous data is still there


def test_a_pdf_with_only_an_owner_password_opens(session: Session, tmp_path: Path) -> None:
    # Permissions only (printing, copying): it opens without a password, as in any reader.
    summary = run(session, _pdf(tmp_path, text=True, owner="owner"), review_session=31, state="CHN")
    assert summary.inserted == 1
    row = session.get(Recommendation, "3-CHN-28.1")
    assert row is not None
    assert (row.text, row.response, row.recommending_states) == ("Ratify the treaty", "supported", ["FRA"])


# --- the command line and the API --------------------------------------------------------------


def test_cli_imports_a_matrix_and_names_the_file_in_errors(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("MODEL_DIR", str(settings.MODEL_DIR))
    get_settings.cache_clear()
    good = make_matrix(tmp_path / "china.docx", good_rows(), title=None)
    bad = make_matrix(tmp_path / "bad.docx", [(cell("28.9", "Do it", "(Atlantis)"), "Noted", THEMES)])
    try:
        missing = CliRunner().invoke(cli, ["import-recommendations", str(good)])
        result = CliRunner().invoke(cli, ["import-recommendations", "--state", "CHN", "--session", "31", str(good)])
        refused = CliRunner().invoke(cli, ["import-recommendations", str(bad)])
    finally:
        get_settings.cache_clear()
    assert missing.exit_code == 1 and "give the `state` option, the `session` option" in missing.output
    assert result.exit_code == 0, result.output
    assert "inserted 2" in result.output
    assert refused.exit_code == 1
    assert f"error: {bad}: 1 row(s) are invalid" in refused.output
    assert "row 2: recommending_states: paragraph 28.9: no recommending State" in refused.output


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_api_imports_a_matrix_and_answers_422_naming_row_and_field(
    client: Any, session: Session, tmp_path: Path
) -> None:
    from tests.factories import auth, make_key

    _row, key = make_key(session, role="admin")
    headers = {**auth(key), "Content-Type": DOCX_TYPE}
    body = make_matrix(tmp_path / "m.docx", good_rows(), title=None).read_bytes()
    r = client.post("/v1/recommendations/import?state=CHN&session=31", content=body, headers=headers)
    assert r.status_code == 201, r.text
    assert (r.json()["format"], r.json()["inserted"]) == ("matrix", 2)
    bad = make_matrix(tmp_path / "b.docx", [(cell("28.3", "Abolish it"), "", THEMES)]).read_bytes()
    r = client.post("/v1/recommendations/import", content=bad, headers=headers)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    error = r.json()["errors"][0]
    assert (error["line"], error["field"], r.json()["unit"]) == (2, "position", "row")
    assert "paragraph 28.3 has no position" in error["reason"]
    r = client.post("/v1/recommendations/import", content=b"not a zip", headers=headers)
    assert r.status_code == 422 and "is not a Word document" in r.json()["errors"][0]["reason"]
    r = client.post("/v1/recommendations/import?state=Atlantis", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "state"
    assert count(session) == 2
