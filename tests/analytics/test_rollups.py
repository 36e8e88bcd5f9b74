"""The dashboards' rollups (paco.services.rollups): exact whatever their state, kept up to date by
each dashboard view and by ``flask analytics refresh``."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from analytics import Filters, build
from paco.extensions import db
from paco.models import Message, ResearchID, cohort_days, question_days, rollup_state, utcnow
from paco.services import rollups

from . import fixture
from .fixture import at


def overview(**args):
    filters = Filters.from_args({**fixture.RANGE, **args}, min_cell=1)
    return build("overview", db.session.connection(), filters).panel("summary").table.set_index("cohort")


def watermark(name: str) -> int:
    return db.session.execute(sa.select(rollup_state.c.watermark).where(rollup_state.c.name == name)).scalar()


def ask(conversation: str, when, text: str = "Can I walk more?", **fields) -> int:
    message = Message(conversation_id=conversation, role="user", content=text, created_at=when, topic="other",
                      **fields)
    db.session.add(message)
    db.session.commit()
    return message.id


def test_a_refresh_rolls_what_came_since_and_the_numbers_stay_the_same(app):
    fixture.load()
    assert rollups.refresh(db.engine) == {"questions": 10, "turns": 5}  # 5 questions, 5 answers; 5 turns
    assert db.session.execute(sa.select(sa.func.sum(question_days.c.questions))).scalar() == 5
    # A question in B1's conversation on the 31st, after the refresh: read live until the next one.
    ask("cB1", at(31, 9), input="voice")
    before = overview()
    assert before.loc["Arm B", "questions"] == 2 and before.loc["Arm B", "voice"] == 1
    assert rollups.refresh(db.engine) == {"questions": 1, "turns": 0}
    after = overview()
    assert after.equals(before)
    stored = db.session.execute(sa.select(question_days.c.day, question_days.c.questions)
                                .order_by(question_days.c.day.desc()).limit(1)).one()
    assert (stored.day.isoformat(), stored.questions) == ("2026-01-31", 1)
    assert rollups.refresh(db.engine) == {"questions": 0, "turns": 0}  # nothing new: nothing done


def test_the_last_minutes_stay_live_until_they_can_no_longer_change(app):
    """A question's safety flag can come from the classifier after it is stored: rows younger than
    the lag are not rolled, and a flag on them counts once the refresh rolls them."""
    fixture.load()
    rollups.refresh(db.engine)
    rolled = watermark("questions")
    recent = ask("cB1", utcnow() - timedelta(minutes=2))
    rollups.refresh(db.engine)
    assert watermark("questions") == rolled  # the new question is too young
    db.session.execute(sa.update(Message.__table__).where(Message.id == recent)
                       .values(safety_category="urgent", safety_rule="classifier.urgent", safety_layer="classifier"))
    db.session.commit()
    today = {"from": utcnow().date().isoformat(), "to": utcnow().date().isoformat()}
    assert overview(**today).loc["Arm B", "escalations"] == 1
    rollups.refresh(db.engine, now=utcnow() + rollups.LAG)
    assert watermark("questions") == recent
    assert overview(**today).loc["Arm B", "escalations"] == 1


def test_a_participant_moved_after_the_refresh_counts_in_the_new_cohort_at_once(app):
    cohorts = fixture.load()
    rollups.refresh(db.engine)
    a2 = db.session.execute(sa.select(ResearchID).where(ResearchID.research_id == "A2")).scalar_one()
    a2.cohort_id, a2.status = cohorts["Arm B"], "withdrawn"
    db.session.commit()
    # By hand: A2's one question (15 Jan, spoken) leaves Arm A for Arm B, before any refresh ...
    moved = overview()
    assert (moved.loc["Arm A", "questions"], moved.loc["Arm B", "questions"]) == (3, 2)
    assert (moved.loc["Arm A", "voice"], moved.loc["Arm B", "voice"]) == (1, 1)
    assert overview(status=["withdrawn"]).loc["Arm B", "questions"] == 1
    # ... and after one, which counts A2's days again under Arm B.
    rollups.refresh(db.engine)
    assert overview().equals(moved)
    arm_b = db.session.execute(sa.select(sa.func.sum(cohort_days.c.questions))
                               .where(cohort_days.c.cohort_key == cohorts["Arm B"])).scalar()
    assert arm_b == 2


def test_rebuild_counts_everything_again(app):
    fixture.load()
    rollups.refresh(db.engine)
    db.session.execute(cohort_days.delete())  # a rollup damaged by hand
    db.session.commit()
    assert overview().loc["Arm A", "questions"] != 4
    assert rollups.rebuild(db.engine) == {"questions": 10, "turns": 5}
    assert overview().loc["Arm A", "questions"] == 4


def test_refresh_command(app, runner):
    fixture.load()
    result = runner.invoke(args=["analytics", "refresh"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "Rolled up 10 messages and 5 turns."
    again = runner.invoke(args=["analytics", "refresh", "--rebuild"])
    assert again.output.strip().splitlines()[-1] == "Rolled up 10 messages and 5 turns."
    assert watermark("questions") > 0


def test_two_refreshes_at_once_take_turns(app):
    """Two staff members opening dashboards at the same moment: both refreshes end without error
    and every question is counted once."""
    import threading

    fixture.load()
    errors = []

    def refresh():
        try:
            with app.app_context():
                rollups.refresh(db.engine, chunk=2)
        except Exception as err:  # noqa: BLE001 - the test reports any failure
            errors.append(err)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rollups.refresh(db.engine)  # whatever one of them left (a failed compare-and-set ends its loop)
    assert db.session.execute(sa.select(sa.func.sum(question_days.c.questions))).scalar() == 5
    assert overview().loc["Arm A", "questions"] == 4
