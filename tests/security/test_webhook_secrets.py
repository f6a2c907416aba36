"""Webhook signing secrets: encrypted at rest under rotatable keys, and never saved in an idempotent answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from app.core.config import Settings
from app.core.secret_box import SecretBox, SecretUnreadable, derived_key, secret_box
from app.models.idempotency import IdempotencyRecord
from app.models.webhook import Webhook
from tests.conftest import migrate, run_cli
from tests.dbutil import fresh_database_url
from tests.factories import auth, make_key, make_provider
from tests.loop.helpers import seed_loop

URL = "https://hooks.example.org/x"


def _create(client: TestClient, key: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/webhooks", headers={**auth(key), **headers}, json={"url": URL, "events": ["need.*"]})


def _stored(session: Session, webhook_id: str) -> str:
    session.rollback()
    row = session.get(Webhook, webhook_id)
    assert row is not None
    session.refresh(row)
    return row.secret


def test_the_stored_secret_is_encrypted_and_the_worker_key_opens_it(
    client: TestClient, session: Session, settings: Settings
) -> None:
    loop = seed_loop(session)
    created = _create(client, loop.keys["x"])
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    stored = _stored(session, created.json()["id"])
    assert secret.startswith("whsec_") and "whsec_" not in stored and secret[6:] not in stored
    assert secret_box(settings).decrypt(stored) == secret
    # Without the configured keys nothing opens it.
    with pytest.raises(SecretUnreadable):
        SecretBox([Fernet.generate_key()]).decrypt(stored)


def test_an_idempotent_replay_says_created_without_the_secret(client: TestClient, session: Session) -> None:
    loop = seed_loop(session)
    first = _create(client, loop.keys["x"], **{"Idempotency-Key": "hook-1"})
    again = _create(client, loop.keys["x"], **{"Idempotency-Key": "hook-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["secret"].startswith("whsec_")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["secret"] is None
    assert {k: v for k, v in again.json().items() if k != "secret"} == {
        k: v for k, v in first.json().items() if k != "secret"
    }
    assert again.headers["location"] == first.headers["location"]
    session.rollback()
    [record] = session.exec(select(IdempotencyRecord)).all()
    assert record.response_body is not None
    assert b"whsec_" not in record.response_body
    assert first.json()["secret"][6:].encode() not in record.response_body
    assert client.get("/v1/webhooks", headers=auth(loop.keys["x"])).json()["total"] == 1


def test_rotation_re_encrypts_under_the_first_key(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with fresh_database_url(tmp_path) as url:
        migrate(url)
        engine = create_engine(url)
        with Session(engine) as session:
            provider = make_provider(session)
            _, key = make_key(session, "provider", provider_id=provider.id)
        settings = Settings(DATABASE_URL=url, ENVIRONMENT="test", WEBHOOK_SECRET_KEYS=[old], _env_file=None)  # type: ignore[call-arg]
        from app.core.config import get_settings
        from app.main import create_app

        app = create_app(settings, engine=engine)
        app.dependency_overrides[get_settings] = lambda: settings
        with TestClient(app) as client:
            created = [_create(client, key).json() for _ in range(2)]
        keys_env = json.dumps([new, old])
        result = run_cli(["webhooks", "rotate-secrets"], database_url=url, env={"WEBHOOK_SECRET_KEYS": keys_env})
        assert result.exit_code == 0, result.output
        assert "2 of 2 webhook secrets encrypted again" in result.output
        only_new = SecretBox([new.encode()])
        with Session(engine) as session:
            for answer in created:
                assert only_new.decrypt(_stored(session, answer["id"])) == answer["secret"]
        again = run_cli(["webhooks", "rotate-secrets"], database_url=url, env={"WEBHOOK_SECRET_KEYS": keys_env})
        assert "0 of 2" in again.output
        lost = run_cli(["webhooks", "rotate-secrets"], database_url=url, env={"WEBHOOK_SECRET_KEYS": json.dumps([old])})
        assert lost.exit_code == 1 and "decrypts" in lost.output
        engine.dispose()


def test_production_refuses_to_start_without_webhook_secret_keys() -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SECRET_KEYS"):
        Settings(ENVIRONMENT="production", SECRET_KEY="s" * 48, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not a Fernet key"):
        Settings(WEBHOOK_SECRET_KEYS=["too-short"], _env_file=None)  # type: ignore[call-arg]
    key = Fernet.generate_key().decode()
    production = Settings(ENVIRONMENT="production", SECRET_KEY="s" * 48, WEBHOOK_SECRET_KEYS=[key], _env_file=None)  # type: ignore[call-arg]
    assert secret_box(production).decrypt(SecretBox([key.encode()]).encrypt("whsec_x")) == "whsec_x"


def test_development_derives_a_stable_key_from_the_server_secret(tmp_path: Path) -> None:
    settings = Settings(SECRET_KEY_FILE=tmp_path / "secret_key", _env_file=None)  # type: ignore[call-arg]
    sealed = secret_box(settings).encrypt("whsec_dev")
    again = Settings(SECRET_KEY_FILE=tmp_path / "secret_key", _env_file=None)  # type: ignore[call-arg]
    assert secret_box(again).decrypt(sealed) == "whsec_dev"
    signing = (tmp_path / "secret_key").read_text().strip().encode()
    assert derived_key(signing) != signing  # never the cookie-signing secret itself


def test_the_migration_encrypts_stored_secrets_and_scrubs_saved_answers(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        migrate(url, "0016")
        db = create_engine(url)
        clear = "whsec_" + "A" * 44
        saved = json.dumps({"id": "w1", "secret": clear, "url": URL}).encode()
        with db.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO webhook (id, party, url, events, secret, status, version, created_at, updated_at) "
                    "VALUES ('w1', 'state:FRA', :url, '[]', :secret, 'active', 1, :now, :now)"
                ),
                {"url": URL, "secret": clear, "now": "2026-12-01 00:00:00.000000"},
            )
            conn.execute(
                text(
                    "INSERT INTO idempotency_record (client, key, request_hash, state, response_status, "
                    "response_headers, response_body, created_at, locked_at) "
                    "VALUES ('k', 'i', 'h', 'done', 201, '[]', :body, :now, :now)"
                ),
                {"body": saved, "now": "2026-12-01 00:00:00.000000"},
            )
        migrate(url)
        with db.connect() as conn:
            stored = conn.execute(text("SELECT secret FROM webhook")).scalar_one()
            body = bytes(conn.execute(text("SELECT response_body FROM idempotency_record")).scalar_one())
        from app.core.config import get_settings

        assert "whsec_" not in stored and secret_box(get_settings()).decrypt(stored) == clear
        assert json.loads(body) == {"id": "w1", "secret": None, "url": URL}
        db.dispose()
