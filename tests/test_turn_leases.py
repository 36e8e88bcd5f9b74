"""Turn leases on both databases: a question and its lease commit together, the answer ends the
lease, and a turn whose worker died is closed once (interrupted with its text, or failed) right
after its question, by whoever comes first."""
from __future__ import annotations

from datetime import timedelta

import pytest

from paco.extensions import db
from paco.models import Message, TurnLease, TurnMetrics, utcnow
from paco.services import conversations, turn_leases


@pytest.fixture
def conversation(demo):
    conversations.open_conversation("RID001", "c-lease")
    db.session.commit()
    return "c-lease"


def _expire(*question_ids: int) -> None:
    """What a worker's death looks like a lease length later: no renewal, the time has passed."""
    db.session.execute(db.update(TurnLease).where(TurnLease.question_id.in_(question_ids))
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def _history(conversation_id: str) -> list[tuple[str, str, str]]:
    return [(m.role, m.status, m.content) for m in conversations.history("RID001", conversation_id, 50)]


def test_a_question_holds_a_lease_until_its_answer_is_stored(conversation):
    question = turn_leases.save_question(conversation, "What is P.A.D.?", "host:1:a", 20)
    [lease] = turn_leases.open_turns(conversation)
    assert lease.question_id == question and lease.holder == "host:1:a"
    assert timedelta(seconds=19) < lease.expires_at - utcnow() <= timedelta(seconds=20)
    answer = turn_leases.save_answer(question, "host:1:a", conversation, "Narrow arteries.", status="complete")
    assert answer is not None and turn_leases.open_turns(conversation) == []
    assert _history(conversation) == [("user", "complete", "What is P.A.D.?"),
                                      ("assistant", "complete", "Narrow arteries.")]


def test_heartbeat_renews_the_holders_leases_and_copies_the_text_so_far(conversation):
    first = turn_leases.save_question(conversation, "one", "host:1:a", 5)
    turn_leases.save_question(conversation, "two", "host:2:b", 5)
    held = turn_leases.heartbeat("host:1:a", 60, [turn_leases.Progress(first, "Half an ans", "openai", "gpt-4o-mini",
                                                                       "v3")])
    assert held == 1
    leases = {lease.question_id: lease for lease in db.session.execute(db.select(TurnLease)).scalars()}
    assert leases[first].expires_at - utcnow() > timedelta(seconds=55)
    assert (leases[first].partial, leases[first].provider, leases[first].model) == ("Half an ans", "openai",
                                                                                  "gpt-4o-mini")
    assert [lease.expires_at - utcnow() < timedelta(seconds=6) for _, lease in sorted(leases.items())] == \
        [False, True]


def test_a_live_lease_is_not_closed(conversation):
    question = turn_leases.save_question(conversation, "Still answering?", "host:1:a", 20)
    assert turn_leases.close_orphan(question) is None
    assert turn_leases.close_expired() == []
    assert len(turn_leases.open_turns(conversation)) == 1


def test_an_expired_lease_is_closed_as_interrupted_with_the_text_so_far(conversation):
    question = turn_leases.save_question(conversation, "Why walk?", "host:1:a", 5)
    turn_leases.heartbeat("host:1:a", 5, [turn_leases.Progress(question, "Walking builds new", "openai", "m", "v3")])
    _expire(question)
    [closed] = turn_leases.close_expired()
    assert closed.question_id == question and closed.status == "interrupted"
    answer = db.session.get(Message, closed.answer_id)
    assert (answer.role, answer.status, answer.content, answer.provider, answer.model) == \
        ("assistant", "interrupted", "Walking builds new", "openai", "m")
    metrics = db.session.execute(db.select(TurnMetrics).where(TurnMetrics.message_id == answer.id)).scalar_one()
    assert "host:1:a" in metrics.error_detail and metrics.response_chars == len("Walking builds new")
    assert turn_leases.open_turns(conversation) == []


def test_an_expired_lease_with_no_text_is_closed_as_failed_once(conversation):
    question = turn_leases.save_question(conversation, "Hello?", "host:1:a", 5)
    _expire(question)
    assert turn_leases.close_orphan(question).status == "failed"
    assert turn_leases.close_orphan(question) is None  # a second instance finds nothing to do
    assert _history(conversation) == [("user", "complete", "Hello?"), ("assistant", "failed", "")]


def test_a_holder_finishing_after_its_turn_was_closed_stores_nothing(conversation):
    question = turn_leases.save_question(conversation, "Slow one", "host:1:a", 5)
    _expire(question)
    turn_leases.close_orphan(question)
    assert turn_leases.save_answer(question, "host:1:a", conversation, "Too late.", status="complete") is None
    assert [role for role, _, _ in _history(conversation)] == ["user", "assistant"]


def test_a_renewed_lease_is_not_taken(conversation):
    question = turn_leases.save_question(conversation, "Busy", "host:1:a", 1)
    turn_leases.heartbeat("host:1:a", 60)  # alive after all: renewed before anyone looked
    assert turn_leases.close_orphan(question, utcnow() + timedelta(seconds=2)) is None


def test_an_orphan_closed_before_the_next_question_keeps_history_in_order(conversation):
    first = turn_leases.save_question(conversation, "First?", "host:1:a", 5)
    turn_leases.heartbeat("host:1:a", 5, [turn_leases.Progress(first, "Partly")])
    _expire(first)
    for turn in turn_leases.open_turns(conversation):  # what a new question does first
        turn_leases.close_orphan(turn.question_id)
    second = turn_leases.save_question(conversation, "Second?", "host:2:b", 20)
    turn_leases.save_answer(second, "host:2:b", conversation, "Whole.", status="complete")
    assert _history(conversation) == [("user", "complete", "First?"), ("assistant", "interrupted", "Partly"),
                                      ("user", "complete", "Second?"), ("assistant", "complete", "Whole.")]
