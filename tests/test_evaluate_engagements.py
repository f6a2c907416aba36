"""`upr-match evaluate --from-engagements`: labelled pairs scored against the ranking the service gives.

A fixture of engagements on a real database: the need is about torture in prisons; the provider that
works on it accepted, the women's shelter declined it as out of scope, a third declined for lack of
capacity (which says nothing about fit and is ignored), a fourth invitation is still proposed (not
read). With the tiny tagger the ranking puts the torture provider first: nDCG and MRR 1. Swapping
the outcomes makes the same ranking score worse, which shows the numbers follow the judgements, not
a constant. The same judgements read from a CSV (`--file`) score the same. `upr-match predict-themes`
reads the same rows again with the tagger.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings, get_settings
from app.models.common import utcnow
from app.models.engagement import Engagement
from app.services import themes as theme_service
from tests.factories import make_need, make_provider, make_recommendation
from tests.tagging import TORTURE, WOMEN, write_tiny_tagger

runner = CliRunner()


def _engage(session: Session, need: str, provider: str, status: str, reason: str | None = None, age: int = 0) -> None:
    """An engagement as the cooperation loop leaves it: the State invited, the provider answered `age` days ago."""
    answered = utcnow() - timedelta(days=age) if status != "proposed" else None
    session.add(
        Engagement(
            need_id=need,
            provider_id=provider,
            state="MEX",
            direction="invitation",
            status=status,
            decline_reason=reason,
            initiated_by_role="state",
            answered_by_role="provider" if answered else None,
            answered_at=answered,
        )
    )
    session.commit()


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("need_id,provider_id,outcome\n" + "".join(f"{n},{p},{o}\n" for n, p, o in rows), encoding="utf-8")
    return path


@pytest.fixture
def judged(session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    models = tmp_path / "models"
    write_tiny_tagger(theme_service.artifact_path(settings.model_copy(update={"MODEL_DIR": models})))
    monkeypatch.setenv("DATABASE_URL", settings.DATABASE_URL)
    monkeypatch.setenv("MODEL_DIR", str(models))
    get_settings.cache_clear()
    rec = make_recommendation(
        session, text="Independent monitoring of places of deprivation of liberty", themes=[TORTURE]
    )
    ids = {
        "need": make_need(session, [rec], title="Monitoring prisons", themes=[TORTURE]).id,
        "monitor": make_provider(
            session, name="Detention Watch", description="Visits places of deprivation of liberty unannounced."
        ).id,
        "shelter": make_provider(
            session, name="Safe House", description="Shelters for survivors of domestic violence.", themes=[WOMEN]
        ).id,
        "busy": make_provider(session, name="Busy Lab", description="Research on prisons and monitoring bodies.").id,
        "other": make_provider(session, name="Open Books", description="Public finance and budget transparency.").id,
    }
    session.close()
    yield ids
    get_settings.cache_clear()


def test_the_engagement_table_is_read_accepted_as_relevant_declined_out_of_scope_as_not(
    judged: dict[str, str], session: Session
) -> None:
    need = judged["need"]
    _engage(session, need, judged["monitor"], "accepted")
    _engage(session, need, judged["shelter"], "declined", "out_of_scope")
    _engage(session, need, judged["busy"], "declined", "no_capacity")
    _engage(session, need, judged["other"], "proposed")
    result = runner.invoke(cli, ["evaluate", "--from-engagements"])
    assert result.exit_code == 0, result.output
    assert "3 judgements read from the engagement table" in result.stdout
    assert "2 judged pairs on 1 needs with an accepted provider" in result.stdout
    assert "1 judgements ignored" in result.stdout
    assert "nDCG 1.0000  MRR 1.0000" in result.stdout


def test_from_the_table_the_same_ranking_scores_worse_when_the_other_provider_accepted(
    judged: dict[str, str], session: Session
) -> None:
    need = judged["need"]
    # The shelter first declined, then accepted when asked again: the later answer counts.
    _engage(session, need, judged["shelter"], "declined", "out_of_scope", age=3)
    _engage(session, need, judged["shelter"], "accepted", age=1)
    _engage(session, need, judged["monitor"], "declined", "out_of_scope", age=2)
    result = runner.invoke(cli, ["evaluate", "--from-engagements", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["needs"] == 1 and report["pairs"] == 2
    assert report["mrr"] == 0.5 and report["ndcg"] == pytest.approx(0.6309, abs=1e-4)


def test_without_engagements_there_is_nothing_to_score(judged: dict[str, str]) -> None:
    result = runner.invoke(cli, ["evaluate", "--from-engagements"])
    assert result.exit_code == 0, result.output
    assert "0 judgements read from the engagement table" in result.stdout
    assert "nothing to score" in result.stdout


def test_a_source_must_be_named(judged: dict[str, str]) -> None:
    result = runner.invoke(cli, ["evaluate"])
    assert result.exit_code == 2
    assert "--from-engagements" in result.stderr


def test_accepted_first_scores_one_from_a_file(judged: dict[str, str], tmp_path: Path) -> None:
    need = judged["need"]
    fixture = _write(
        tmp_path / "engagements.csv",
        [
            (need, judged["monitor"], "accepted"),
            (need, judged["shelter"], "declined_out_of_scope"),
            (need, judged["busy"], "declined_no_capacity"),
        ],
    )
    result = runner.invoke(cli, ["evaluate", "--from-engagements", "--file", str(fixture)])
    assert result.exit_code == 0, result.output
    assert "2 judged pairs on 1 needs with an accepted provider" in result.stdout
    assert "1 judgements ignored" in result.stdout
    assert "nDCG 1.0000  MRR 1.0000" in result.stdout


def test_the_same_ranking_scores_worse_when_the_other_provider_accepted(judged: dict[str, str], tmp_path: Path) -> None:
    need = judged["need"]
    fixture = _write(
        tmp_path / "swapped.csv",
        [(need, judged["monitor"], "declined_out_of_scope"), (need, judged["shelter"], "accepted")],
    )
    result = runner.invoke(cli, ["evaluate", "--from-engagements", "--file", str(fixture), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["needs"] == 1 and report["mrr"] == 0.5 and report["ndcg"] == pytest.approx(0.6309, abs=1e-4)


def test_a_file_without_the_columns_is_refused_by_name(judged: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("need,provider\nx,y\n", encoding="utf-8")
    result = runner.invoke(cli, ["evaluate", "--from-engagements", "--file", str(bad)])
    assert result.exit_code == 1
    assert "lacks the column(s) need_id, provider_id, outcome" in result.stderr


def test_predict_themes_reads_existing_profiles_and_needs_again(judged: dict[str, str], session: Session) -> None:
    """Rows written before a tagger existed (or by an older one) get their predictions with a new version."""
    from app.models.need import Need
    from app.models.provider import Provider

    result = runner.invoke(cli, ["predict-themes"])
    assert result.exit_code == 0, result.output
    assert "predicted themes changed for 4 providers and 1 needs" in result.stdout
    monitor = session.get(Provider, judged["monitor"])
    need = session.get(Need, judged["need"])
    assert monitor is not None and monitor.themes_predicted == [TORTURE] and monitor.version == 2
    assert need is not None and need.themes_predicted == [TORTURE]
    again = runner.invoke(cli, ["predict-themes"])
    assert "changed for 0 providers and 0 needs" in again.stdout  # nothing new to read: versions stay
