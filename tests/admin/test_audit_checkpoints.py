"""The audit chain held to signed checkpoints outside the database: removing the newest events,
emptying the table or editing a checkpoint is caught; TRUNCATE is refused on PostgreSQL."""
from __future__ import annotations

import json

import pytest

from paco.extensions import db
from paco.services import audit

from .conftest import audit_events
from .test_audit import _append, tamper


def checkpoints(app) -> list[dict]:
    with open(app.config["PACO_AUDIT_ANCHOR_FILE"]) as handle:
        return [json.loads(line) for line in handle]


def test_the_first_event_is_anchored_at_once_and_the_rest_by_flush(app):
    _append(3)
    events = audit_events()
    assert [c["event_id"] for c in checkpoints(app)] == [events[0].id]
    audit._Chain.anchors.flush()  # what the timer (or the end of a CLI run) does
    assert [c["event_id"] for c in checkpoints(app)] == [events[0].id, events[-1].id]
    assert checkpoints(app)[-1]["hash"] == events[-1].hash


def test_removing_the_newest_events_is_caught(app, runner):
    _append(5)
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    events = audit_events()
    tamper("DELETE FROM audit_events WHERE id >= :id", id=events[3].id)  # the chain still links
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken link at audit event {events[4].id} (a signed checkpoint names event {events[4].id}, " \
           "which is missing" in result.output


def test_an_emptied_log_is_caught(app, runner):
    _append(2)
    runner.invoke(args=["audit", "anchor"])
    tamper("DELETE FROM audit_events")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "which is missing" in result.output


def test_an_edited_checkpoint_is_caught(app, runner):
    _append(2)
    runner.invoke(args=["audit", "anchor"])
    path = app.config["PACO_AUDIT_ANCHOR_FILE"]
    lines = open(path).read().splitlines()
    forged = json.loads(lines[-1])
    forged["event_id"] = 1
    with open(path, "a") as handle:
        handle.write(json.dumps(forged) + "\n")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "signature does not match" in result.output


def test_anchor_on_an_empty_log_says_so(app, runner):
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0 and "empty" in result.output


def test_truncate_is_refused_by_the_database(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    from sqlalchemy.exc import DBAPIError

    _append(1)
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(db.text("TRUNCATE audit_events"))
    assert len(audit_events()) == 1


def test_checkpoints_also_go_to_redis_when_configured(make_app):
    import os
    import uuid

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    prefix = f"paco-test-{uuid.uuid4().hex[:8]}"
    app = make_app(REDIS_URL=url, PACO_REDIS_PREFIX=prefix)
    with app.app_context():
        _append(1)
        stored = audit._Chain.anchors.redis.lrange(f"{prefix}:audit:checkpoints", 0, -1)
        assert [json.loads(s)["event_id"] for s in stored] == [audit_events()[0].id]
        assert audit.verify_chain().intact
        audit._Chain.anchors.redis.delete(f"{prefix}:audit:checkpoints")
        db.session.remove()
