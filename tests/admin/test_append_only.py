"""Append-only tables: PostgreSQL itself refuses UPDATE and DELETE; the ORM refuses on any engine."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from paco.extensions import db
from paco.models import AuditEvent, DisclaimerAcknowledgment
from paco.models.audit import AppendOnlyError
from paco.services import audit, consent


@pytest.fixture
def rows(demo):
    consent.acknowledge("RID001", consent.current_disclaimer(), "TestBrowser/1.0")
    audit.record_and_commit("tester", "test.event", "thing:1", {"n": 1})
    return demo


def _postgresql_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the database-level guard exists on PostgreSQL only")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'someone else'",
    "DELETE FROM audit_events",
    "UPDATE disclaimer_acknowledgments SET version = 99",
    "DELETE FROM disclaimer_acknowledgments",
])
def test_postgresql_refuses_changes_to_append_only_tables(rows, statement):
    _postgresql_only()
    with pytest.raises(sa.exc.DBAPIError) as raised:
        with db.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert "append-only" in str(raised.value)
    assert db.session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == 1
    assert db.session.execute(sa.text("SELECT count(*) FROM disclaimer_acknowledgments")).scalar() == 1


def test_postgresql_allows_inserts_and_refuses_truncate_unless_its_owner_pauses_triggers(rows):
    _postgresql_only()
    audit.record_and_commit("tester", "test.event", "thing:2")
    db.session.close()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE audit_events, disclaimer_acknowledgments"))
    assert db.session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == 2
    db.session.close()  # TRUNCATE waits for every open transaction on the table
    with db.engine.begin() as conn:  # a scratch database's owner, deliberately
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text("TRUNCATE audit_events, disclaimer_acknowledgments"))
    assert db.session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == 0


def test_the_orm_refuses_to_change_or_delete_rows(rows):
    event = db.session.execute(db.select(AuditEvent)).scalar_one()
    event.actor = "someone else"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    ack = db.session.execute(db.select(DisclaimerAcknowledgment)).scalar_one()
    db.session.delete(ack)
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.execute(db.select(db.func.count(DisclaimerAcknowledgment.id))).scalar() == 1
