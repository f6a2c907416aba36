"""`/v1/mappings`: a document's paragraphs linked to the recommendations each speaks to, reviewed and kept.

A saved mapping is its author's: another key gets 404 until the author makes it public, and never may change
it. Bad files (scanned, password, corrupt, too large, nothing to link) are refused with the file named.
"""

from __future__ import annotations

import csv
import io

import docx
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from app.importing.document import MAX_DOCUMENT_BYTES
from tests.factories import auth, make_key, make_recommendation

pytestmark = pytest.mark.db

ASKS = (
    "Our asks to the Government\n\n"
    "1. Establish an independent mechanism to investigate complaints of torture by police officers.\n"
    "2. Raise the minimum age of marriage to 18 years for girls and boys, without exception.\n"
    "3. Guarantee access to safe drinking water in rural areas.\n"
)


def _world(session: Session) -> dict[str, str]:
    recs = {
        "torture": make_recommendation(
            session, state_under_review="MEX", text="Investigate all complaints of torture by police officers."
        ).id,
        "marriage": make_recommendation(
            session,
            state_under_review="MEX",
            text="Raise the minimum age of marriage to 18 for girls.",
            themes=["Rights of the Child"],
        ).id,
        "water": make_recommendation(
            session, state_under_review="MEX", text="Improve access to safe drinking water.", themes=["Right to water"]
        ).id,
        "elsewhere": make_recommendation(
            session, state_under_review="KEN", text="Investigate all complaints of torture by police officers."
        ).id,
    }
    _, recs["author"] = make_key(session, role="state", state="MEX")
    _, recs["other"] = make_key(session, role="state", state="KEN")
    session.close()
    return recs


def _upload(client: TestClient, key: str, data: bytes, filename: str, **params: object) -> object:
    return client.post("/v1/mappings", params={"filename": filename, **params}, content=data, headers=auth(key))


def _docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_submission_is_split_linked_reviewed_and_exported(client: TestClient, session: Session) -> None:
    w = _world(session)
    made = _upload(client, w["author"], ASKS.encode(), "asks.txt", state="MEX", title="NGO asks")
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["title"] == "NGO asks" and body["public"] is False and body["mine"] is True
    assert [(i["number"], i["label"]) for i in body["items"]] == [(1, "1"), (2, "2"), (3, "3")]  # heading left out
    first, second, third = body["items"]
    assert first["links"][0]["recommendation_id"] == w["torture"]
    assert all(link["recommendation_id"] != w["elsewhere"] for i in body["items"] for link in i["links"])
    assert second["links"][0]["recommendation_id"] == w["marriage"]
    assert third["links"][0]["recommendation_id"] == w["water"]
    assert first["links"][0]["reasons"] and first["links"][0]["decision"] is None
    etag = made.headers["ETag"]

    decided = client.post(
        f"/v1/mappings/{body['id']}/items/1/decision",
        json={"recommendation_id": w["torture"], "decision": "accepted"},
        headers={**auth(w["author"]), "If-Match": etag},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["items"][0]["links"][0]["decision"] == "accepted"
    stale = client.post(
        f"/v1/mappings/{body['id']}/items/2/decision",
        json={"recommendation_id": w["marriage"], "decision": "rejected"},
        headers={**auth(w["author"]), "If-Match": etag},
    )
    assert stale.status_code == 412
    wrong = client.post(
        f"/v1/mappings/{body['id']}/items/2/decision",
        json={"recommendation_id": w["marriage"], "decision": "maybe"},
        headers={**auth(w["author"]), "If-Match": decided.headers["ETag"]},
    )
    assert wrong.status_code == 422 and "decision" in wrong.text

    exported = client.get(f"/v1/mappings/{body['id']}/export", params={"format": "csv"}, headers=auth(w["author"]))
    assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "paragraph" and rows[0][-1] == "decision"
    assert [r[4] for r in rows[1:] if r[-1] == "accepted"] == [w["torture"]]
    xlsx = client.get(f"/v1/mappings/{body['id']}/export", params={"format": "xlsx"}, headers=auth(w["author"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "paragraph" and len(values) == len(rows)


def test_a_mapping_is_its_authors_until_made_public(client: TestClient, session: Session) -> None:
    w = _world(session)
    made = _upload(client, w["author"], _docx(ASKS.split("\n")), "asks.docx").json()
    url = f"/v1/mappings/{made['id']}"
    assert client.get(url, headers=auth(w["other"])).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/export", headers=auth(w["other"])).status_code == 404
    assert client.get("/v1/mappings", headers=auth(w["other"])).json()["total"] == 0
    assert client.get("/v1/mappings", headers=auth(w["author"])).json()["total"] == 1
    refused = client.patch(url, json={"public": True}, headers={**auth(w["other"]), "If-Match": '"1"'})
    assert refused.status_code == 404
    shared = client.patch(url, json={"public": True}, headers={**auth(w["author"]), "If-Match": '"1"'})
    assert shared.status_code == 200 and shared.json()["public"] is True
    seen = client.get(url, headers=auth(w["other"]))
    assert seen.status_code == 200 and seen.json()["mine"] is False
    assert client.get("/v1/mappings", params={"public": "true"}).json()["total"] == 1
    not_theirs = client.post(
        f"{url}/items/1/decision",
        json={"recommendation_id": w["torture"], "decision": "rejected"},
        headers={**auth(w["other"]), "If-Match": shared.headers["ETag"]},
    )
    assert not_theirs.status_code == 404
    gone = client.delete(url, headers={**auth(w["author"]), "If-Match": shared.headers["ETag"]})
    assert gone.status_code == 204 and client.get(url, headers=auth(w["author"])).status_code == 404
    assert _upload(client, "", ASKS.encode(), "asks.txt").status_code == 401


def _pdf(*, text: bool, password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    if text:
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, "1. Investigate all complaints of torture by police officers\nin every State.")
        writer = PdfWriter(clone_from=io.BytesIO(bytes(pdf.output())))
    else:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("filename", "make", "status", "says"),
    [
        ("scan.pdf", lambda: _pdf(text=False), 422, "scan.pdf has no text to read (a scanned document?)"),
        ("locked.pdf", lambda: _pdf(text=True, password="secret"), 422, "locked.pdf is password-protected"),
        ("broken.pdf", lambda: b"%PDF-1.7\n garbage", 422, "broken.pdf is not a readable PDF"),
        ("fake.docx", lambda: b"not a zip at all", 422, "fake.docx is not a Word document"),
        ("locked.docx", lambda: b"\xd0\xcf\x11\xe0" + b"\0" * 600, 422, "locked.docx is password-protected or an old"),
        ("short.txt", lambda: b"Asks\n\nNone yet", 422, "short.txt has no paragraph of 4 words or more"),
        ("latin1.txt", lambda: "Garantir l'accès à l'eau".encode("latin-1"), 422, "latin1.txt is not UTF-8 text"),
        ("big.txt", lambda: b"word " * (MAX_DOCUMENT_BYTES // 5 + 1), 413, "big.txt is larger than 5 MB"),
    ],
)
def test_bad_files_are_refused_naming_the_file(
    client: TestClient, session: Session, filename: str, make: object, status: int, says: str
) -> None:
    w = _world(session)
    assert callable(make)
    got = _upload(client, w["author"], make(), filename)
    assert got.status_code == status, got.text
    assert got.headers["content-type"].startswith("application/problem+json")
    assert says in got.text
    assert client.get("/v1/mappings", headers=auth(w["author"])).json()["total"] == 0  # nothing half-written


def test_a_pdf_with_text_is_read(client: TestClient, session: Session) -> None:
    w = _world(session)
    got = _upload(client, w["author"], _pdf(text=True), "plan.pdf", state="MEX")
    assert got.status_code == 201, got.text
    [item] = got.json()["items"]
    assert item["label"] == "1" and item["links"][0]["recommendation_id"] == w["torture"]


def test_the_file_name_says_the_kind(client: TestClient, session: Session) -> None:
    w = _world(session)
    got = _upload(client, w["author"], ASKS.encode(), "asks.odt")
    assert got.status_code == 422 and "filename" in got.text
