"""Settings: strict parsing, production refusals that name the wrong setting."""
from __future__ import annotations

import pytest

from paco import create_app
from paco.config import ConfigError, database_url

GOOD_PRODUCTION = {
    "PACO_ENV": "production",
    "SECRET_KEY": "p" * 48,
    "DATABASE_URL": "postgresql://paco@db.example/paco",
    "PACO_ALLOWED_ORIGINS": "https://paco.example.org",
}


def _set(monkeypatch, values):
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_production_starts_with_safe_settings(monkeypatch):
    _set(monkeypatch, GOOD_PRODUCTION)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["JWT_SECRET_KEY"] == "p" * 48


@pytest.mark.parametrize("change, named", [
    ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter"),
    ({"DATABASE_URL": None}, "DATABASE_URL points to SQLite"),
    ({"DATABASE_URL": "sqlite:////tmp/x.db"}, "DATABASE_URL points to SQLite"),
    ({"PACO_ALLOWED_ORIGINS": "*"}, "PACO_ALLOWED_ORIGINS contains a wildcard"),
    ({"PACO_ALLOWED_ORIGINS": "https://a.org,https://*.b.org"}, "PACO_ALLOWED_ORIGINS contains a wildcard"),
    ({"PACO_ALLOWED_ORIGINS": None}, "PACO_ALLOWED_ORIGINS is empty"),
    ({"JWT_SECRET_KEY": "abc"}, "JWT_SECRET_KEY is shorter than 32 characters"),
])
def test_production_refuses_unsafe_settings(monkeypatch, change, named):
    values = {**GOOD_PRODUCTION, **change}
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        create_app()
    assert named in str(err.value)


@pytest.mark.parametrize("name, value", [
    ("PACO_TOKEN_HOURS", "a day"), ("PACO_RATE_LIMIT_ENABLED", "maybe"),
    ("PACO_LLM_IDLE_TIMEOUT", "-1"), ("PACO_ENV", "staging"),
])
def test_malformed_settings_are_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        create_app()


def test_jwt_secret_falls_back_to_secret_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    assert create_app().config["JWT_SECRET_KEY"] == "s" * 40
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    assert create_app().config["JWT_SECRET_KEY"] == "j" * 40


def test_database_url_forms():
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url(None).startswith("sqlite:///") and database_url(None).endswith("paco.db")


def test_development_secret_is_random_and_stable(monkeypatch, tmp_path):
    import paco.config as config

    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = create_app().config["SECRET_KEY"]
    assert len(first) >= 48 and create_app().config["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("values, named", [
    ({"PACO_TURN_HEARTBEAT_SECONDS": "15"}, "must be at most half of PACO_TURN_LEASE_SECONDS"),
    ({"PACO_TURN_LEASE_SECONDS": "45"}, "a dead worker's turns must be closed within 60 s"),
    ({"PACO_TURN_SWEEP_SECONDS": "40"}, "a dead worker's turns must be closed within 60 s"),
])
def test_turn_leases_that_could_leave_an_orphan_open_past_a_minute_are_refused(monkeypatch, values, named):
    _set(monkeypatch, values)
    with pytest.raises(ConfigError, match=named):
        create_app()


def test_the_default_turn_leases_close_an_orphan_well_within_a_minute():
    app = create_app()
    lease, sweep, beat = (app.config[f"PACO_TURN_{n}_SECONDS"] for n in ("LEASE", "SWEEP", "HEARTBEAT"))
    assert lease + 1.2 * sweep + beat == 37
