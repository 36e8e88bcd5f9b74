"""Daily check-ins over the REST API, as the chat page and scripts use it: one answer per day with
every change kept, the participant's own day from the page's offset, the week-long window, each bad
value refused with its code, and nobody else's data."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from paco.extensions import db
from paco.models import AdherenceRecord, Checkin, Cohort, ResearchID
from paco.services import checkins as service

CHECKIN = "/api/v1/adherence/checkin"
CHECKINS = "/api/v1/adherence/checkins"
# A Wednesday afternoon, UTC.
NOON = datetime(2026, 3, 11, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock(monkeypatch):
    """The services' clock, set by the test (tokens keep the real one)."""
    state = {"now": NOON}
    monkeypatch.setattr(service, "utcnow", lambda: state["now"])

    def set_to(moment: datetime):
        state["now"] = moment

    return set_to


@pytest.fixture
def rid001(login, clock):
    return login("RID001")


def _records(research_id="RID001"):
    return db.session.execute(db.select(AdherenceRecord).where(AdherenceRecord.research_id == research_id)
                              .order_by(AdherenceRecord.date)).scalars().all()


def _history(research_id="RID001"):
    return db.session.execute(db.select(Checkin).where(Checkin.research_id == research_id)
                              .order_by(Checkin.id)).scalars().all()


def test_an_answer_becomes_the_days_self_report_on_the_one_scale(client, rid001):
    r = client.post(CHECKIN, headers=rid001, json={"taken": "all"})
    assert r.status_code == 201, r.get_json()
    checkin = r.get_json()["checkin"]
    assert {k: checkin[k] for k in ("date", "taken", "reason", "value", "measure", "reply_available")} == {
        "date": "2026-03-11", "taken": "all", "reason": None, "value": 1.0, "measure": "self_report",
        "reply_available": False}
    assert isinstance(checkin["id"], int) and checkin["answered_at"] == "2026-03-11T15:00:00Z"
    (record,) = _records()
    assert (record.date, record.measure, record.value, record.source, record.medication, record.barrier) == (
        date(2026, 3, 11), "self_report", 1.0, "paco_checkin", "", None)


@pytest.mark.parametrize("taken, value", [("all", 1.0), ("some", 0.5), ("none", 0.0)])
def test_all_some_none_are_stored_as_1_half_and_0(client, rid001, taken, value):
    body = {"taken": taken, **({"reason": "cost"} if taken != "all" else {})}
    assert client.post(CHECKIN, headers=rid001, json=body).status_code == 201
    (record,) = _records()
    assert record.value == value and record.barrier == (None if taken == "all" else "cost")


def test_a_same_day_change_updates_the_record_and_keeps_every_answer(client, rid001, clock):
    first = client.post(CHECKIN, headers=rid001, json={"taken": "none", "reason": "forgot"})
    assert first.status_code == 201
    clock(NOON.replace(hour=19))
    second = client.post(CHECKIN, headers=rid001,
                         json={"taken": "some", "reason": "ran_out", "note": "  Pharmacy shut "})
    assert second.status_code == 200, second.get_json()  # a change, not a new day
    assert second.get_json()["checkin"]["note"] == "Pharmacy shut"
    assert second.get_json()["checkin"]["message"] == (
        "Check-in: I took some of my P.A.D. medicines today. What got in the way: I ran out. Pharmacy shut")
    history = _history()
    assert [(c.taken, c.reason, c.value) for c in history] == [("none", "forgot", 0.0), ("some", "ran_out", 0.5)]
    (record,) = _records()  # one record per day: each day counts once in every average
    assert (record.value, record.barrier, record.notes) == (0.5, "ran_out", "Pharmacy shut")
    listed = client.get(CHECKINS, headers=rid001).get_json()["checkins"]
    assert [(c["date"], c["taken"], c["reason"], c["changes"]) for c in listed] == [
        ("2026-03-11", "some", "ran_out", 1)]


def test_the_last_week_can_be_answered_late_but_not_the_future_or_older(client, rid001):
    for day, status, code in [("2026-03-04", 201, None), ("2026-03-10", 201, None),
                              ("2026-03-03", 400, "date_too_old"), ("2026-03-12", 400, "date_in_future"),
                              ("2027-01-01", 400, "date_in_future")]:
        r = client.post(CHECKIN, headers=rid001, json={"taken": "all", "date": day})
        assert r.status_code == status, (day, r.get_json())
        if code:
            assert r.get_json()["error"]["code"] == code, day
            assert r.get_json()["error"]["message"]
    assert [r.date.isoformat() for r in _records()] == ["2026-03-04", "2026-03-10"]


@pytest.mark.parametrize("body, code", [
    ({"taken": "most"}, "invalid_field"),
    ({"taken": "ALL"}, "invalid_field"),
    ({"taken": 1}, "invalid_field"),
    ({}, "missing_field"),
    ({"taken": "some", "reason": "bored"}, "invalid_field"),
    ({"taken": "some", "reason": ["cost"]}, "invalid_field"),
    ({"taken": "all", "reason": "forgot"}, "invalid_field"),
    ({"taken": "all", "note": "all good"}, "invalid_field"),
    ({"taken": "none", "reason": "other", "note": "x" * 281}, "invalid_field"),
    ({"taken": "none", "reason": "other", "note": "bad\u0000byte"}, "invalid_text"),
    ({"taken": "none", "reason": "other", "note": "half \ud83d emoji"}, "invalid_text"),
    ({"taken": "all", "date": "2026-3-11"}, "invalid_date"),
    ({"taken": "all", "date": "2026-02-30"}, "invalid_date"),
    ({"taken": "all", "date": "yesterday"}, "invalid_date"),
    ({"taken": "all", "date": "2026-03-11T10:00"}, "invalid_date"),
    ({"taken": "all", "date": 20260311}, "invalid_field"),
    ({"taken": "all", "tz_offset_minutes": 841}, "invalid_tz_offset"),
    ({"taken": "all", "tz_offset_minutes": -841}, "invalid_tz_offset"),
    ({"taken": "all", "tz_offset_minutes": 60.5}, "invalid_tz_offset"),
    ({"taken": "all", "tz_offset_minutes": "60"}, "invalid_tz_offset"),
    ({"taken": "all", "tz_offset_minutes": True}, "invalid_tz_offset"),
    ({"taken": "all", "research_id": "not valid!"}, "invalid_research_id"),
])
def test_each_bad_value_is_refused_with_its_code_and_nothing_is_stored(client, rid001, body, code):
    r = client.post(CHECKIN, headers=rid001, data=json.dumps(body), content_type="application/json")
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["code"] == code and r.get_json()["error"]["message"]
    assert _history() == [] and _records() == []


def test_the_body_must_be_a_json_object_sent_from_the_site(client, rid001):
    for raw, kind, status, code in [("[1]", "application/json", 400, "malformed_json"),
                                    ("{bad", "application/json", 400, "malformed_json"),
                                    ('{"taken": "all"}', "text/plain", 415, "unsupported_media_type")]:
        r = client.post(CHECKIN, headers=rid001, data=raw, content_type=kind)
        assert (r.status_code, r.get_json()["error"]["code"]) == (status, code)
    foreign = client.post(CHECKIN, headers={**rid001, "Origin": "https://evil.example"}, json={"taken": "all"})
    assert (foreign.status_code, foreign.get_json()["error"]["code"]) == (403, "origin_not_allowed")
    assert _history() == []


def test_no_token_is_401_and_another_research_id_is_403(app, client, rid001, login):
    stranger = app.test_client()
    for method, path in (("post", CHECKIN), ("get", CHECKINS)):
        r = getattr(stranger, method)(path, json={"taken": "all"} if method == "post" else None)
        assert (r.status_code, r.get_json()["error"]["code"]) == (401, "missing_token")
    r = client.post(CHECKIN, headers=rid001, json={"taken": "all", "research_id": "RID002"})
    assert (r.status_code, r.get_json()["error"]["code"]) == (403, "forbidden")
    assert client.post(CHECKIN, headers=rid001, json={"taken": "all", "research_id": "rid001"}).status_code == 201
    # Another participant sees only their own days.
    other = login("RID002")
    assert client.get(CHECKINS, headers=other).get_json()["checkins"] == []
    assert [c.research_id for c in _history("RID001")] == ["RID001"] and _history("RID002") == []


def test_a_paused_participant_can_no_longer_answer(client, rid001):
    db.session.execute(db.update(ResearchID).where(ResearchID.research_id == "RID001").values(status="paused"))
    db.session.commit()
    r = client.post(CHECKIN, headers=rid001, json={"taken": "all"})
    assert (r.status_code, r.get_json()["error"]["code"]) == (403, "research_id_inactive")


@pytest.mark.parametrize("now, offset, day", [
    # 23:30 UTC on the 11th is already the 12th one hour east, still the 11th five hours west.
    (datetime(2026, 3, 11, 23, 30, tzinfo=timezone.utc), 60, "2026-03-12"),
    (datetime(2026, 3, 11, 23, 30, tzinfo=timezone.utc), -300, "2026-03-11"),
    # 00:30 UTC on the 12th is still the 11th one hour west.
    (datetime(2026, 3, 12, 0, 30, tzinfo=timezone.utc), -60, "2026-03-11"),
    (datetime(2026, 3, 12, 0, 30, tzinfo=timezone.utc), 0, "2026-03-12"),
    # The extremes: Kiribati (UTC+14) and Baker Island (UTC-12).
    (datetime(2026, 3, 11, 10, 0, tzinfo=timezone.utc), 840, "2026-03-12"),
    (datetime(2026, 3, 11, 11, 59, tzinfo=timezone.utc), -720, "2026-03-10"),
])
def test_today_is_the_participants_own_day(client, rid001, clock, now, offset, day):
    clock(now)
    r = client.post(CHECKIN, headers=rid001, json={"taken": "all", "tz_offset_minutes": offset})
    assert r.status_code == 201 and r.get_json()["checkin"]["date"] == day
    listed = client.get(f"{CHECKINS}?tz_offset_minutes={offset}", headers=rid001).get_json()
    assert listed["today"] == day and [c["date"] for c in listed["checkins"]] == [day]
    assert listed["due"] is False  # answered today
    (checkin,) = _history()
    assert checkin.tz_offset_minutes == offset


def test_a_day_that_has_not_begun_where_the_participant_is_is_refused(client, rid001, clock):
    clock(datetime(2026, 3, 12, 0, 30, tzinfo=timezone.utc))
    r = client.post(CHECKIN, headers=rid001, json={"taken": "all", "date": "2026-03-12", "tz_offset_minutes": -60})
    assert (r.status_code, r.get_json()["error"]["code"]) == (400, "date_in_future")
    ok = client.post(CHECKIN, headers=rid001, json={"taken": "all", "date": "2026-03-12", "tz_offset_minutes": 60})
    assert ok.status_code == 201


def test_the_list_has_the_latest_answer_per_day_within_the_days_asked(client, rid001, clock):
    for day, taken in (("2026-03-05", "none"), ("2026-03-09", "all"), ("2026-03-09", "some"), ("2026-03-11", "all")):
        body = {"taken": taken, "date": day, **({"reason": "forgot"} if taken != "all" else {})}
        assert client.post(CHECKIN, headers=rid001, json=body).status_code in (200, 201)
    two_weeks = client.get(CHECKINS, headers=rid001).get_json()
    assert [(c["date"], c["taken"], c["changes"]) for c in two_weeks["checkins"]] == [
        ("2026-03-05", "none", 0), ("2026-03-09", "some", 1), ("2026-03-11", "all", 0)]
    three_days = client.get(f"{CHECKINS}?days=3", headers=rid001).get_json()["checkins"]
    assert [c["date"] for c in three_days] == ["2026-03-09", "2026-03-11"]
    question = two_weeks["question"]
    assert question["text"] == "Did you take your P.A.D. medicines today?" and question["wording"] == "v1"
    assert [a["code"] for a in question["answers"]] == ["all", "some", "none"]
    assert [r["code"] for r in question["reasons"]] == ["forgot", "side_effects", "cost", "ran_out", "on_purpose",
                                                       "other"]
    for bad in ("0", "91", "x", "1.5", "-3"):
        r = client.get(f"{CHECKINS}?days={bad}", headers=rid001)
        assert (r.status_code, r.get_json()["error"]["code"]) == (400, "invalid_field"), bad
    for bad in ("900", "x", "1.5"):
        r = client.get(f"{CHECKINS}?tz_offset_minutes={bad}", headers=rid001)
        assert (r.status_code, r.get_json()["error"]["code"]) == (400, "invalid_tz_offset"), bad


def _cohort(**settings):
    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Demo cohort")).scalar_one()
    for name, value in settings.items():
        setattr(cohort, name, value)
    db.session.commit()


def test_the_card_asks_on_the_cohorts_weekdays_in_its_wording(client, rid001, clock):
    _cohort(checkin_weekdays="13", checkin_wording="v2")  # Monday and Wednesday
    wednesday = client.get(CHECKINS, headers=rid001).get_json()
    assert (wednesday["enabled"], wednesday["due"]) == (True, True)
    assert wednesday["question"] == {**wednesday["question"], "wording": "v2",
                                     "text": "Have you taken all of your P.A.D. medicines today?"}
    clock(datetime(2026, 3, 12, 15, 0, tzinfo=timezone.utc))  # Thursday: not asked, still allowed
    thursday = client.get(CHECKINS, headers=rid001).get_json()
    assert (thursday["enabled"], thursday["due"]) == (True, False)
    assert client.post(CHECKIN, headers=rid001, json={"taken": "all"}).status_code == 201
    (checkin,) = _history()
    assert checkin.wording == "v2"  # the wording the participant saw is kept with the answer


def test_a_cohort_without_check_ins_is_never_asked_and_cannot_answer(client, rid001):
    _cohort(checkin_enabled=False)
    listed = client.get(CHECKINS, headers=rid001).get_json()
    assert (listed["enabled"], listed["due"], listed["checkins"]) == (False, False, [])
    r = client.post(CHECKIN, headers=rid001, json={"taken": "all"})
    assert (r.status_code, r.get_json()["error"]["code"]) == (403, "checkins_off")


def test_answers_and_speech_on_demand_are_rate_limited_per_research_id(make_app, demo, clock):
    app = make_app(PACO_RATE_LIMIT_CHECKINS="2 per minute", PACO_RATE_LIMIT_SPEECH="1 per minute",
                   RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        client = app.test_client()
        client.post("/api/v1/auth/acknowledge-disclaimer", json={"research_id": "RID003"})
        token = client.post("/api/v1/auth/login", json={"research_id": "RID003"}).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [client.post(CHECKIN, headers=headers, json={"taken": "all"}).status_code for _ in range(2)]
        assert statuses == [201, 200]
        r = client.post(CHECKIN, headers=headers, json={"taken": "all"})
        assert (r.status_code, r.get_json()["error"]["code"]) == (429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1
        speech = [client.post("/api/v1/audio/speech", headers=headers, json={"prompt": "checkin"}) for _ in range(2)]
        assert [r.get_json()["error"]["code"] for r in speech] == ["speech_off", "rate_limited"]  # no TTS in tests


@pytest.mark.parametrize("query", ["days=²", "days=٣", "tz_offset_minutes=¹²⁰"])
def test_numbers_in_other_scripts_are_refused_not_a_500(client, rid001, query):
    """Found by the fuzzing: str.isdigit() takes '²', which int() then refuses."""
    response = client.get(f"{CHECKINS}?{query}", headers=rid001)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("invalid_field", "invalid_tz_offset")
