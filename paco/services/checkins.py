"""Daily adherence check-ins: "Did you take your P.A.D. medicines today?" answered in the chat page.

Each answer is kept (``checkins``, changes included) and the day's newest answer is the
participant's self-reported adherence record, on the one scale every measure shares (a fraction
of doses taken): all = 1.0, some = 0.5, none = 0.0 (docs/data-model.md says why). Days are the
participant's own: the page sends its time-zone offset, and "today" is UTC shifted by it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..models import AdherenceRecord, Checkin, ResearchID, utcnow
from ..models.checkins import BARRIERS, CHECKIN_NOTE_MAX_LENGTH, CHECKIN_TAKEN
from ..models.types import iso_utc
from ..validation import check_text, is_row_id
from .transaction import committing

VALUES = {"all": 1.0, "some": 0.5, "none": 0.0}
SOURCE = "paco_checkin"      # adherence_records.source of a check-in
MEASURE = "self_report"
MAX_DAYS_BACK = 7            # an answer may be given or changed up to a week later
TZ_OFFSET_MAX = 840          # minutes east of UTC: UTC-14:00 ... UTC+14:00
HISTORY_DAYS_MAX = 90
WEEKDAYS_ALL = "1234567"
# The question's wording, by version (cohorts.checkin_wording); each answer records the version seen.
WORDINGS = {
    "v1": "Did you take your P.A.D. medicines today?",
    "v2": "Have you taken all of your P.A.D. medicines today?",
}
ANSWERS = {"all": "All of them", "some": "Some of them", "none": "None of them"}
REASONS = {"forgot": "I forgot", "side_effects": "Side effects", "cost": "The cost", "ran_out": "I ran out",
           "on_purpose": "I skipped on purpose", "other": "Something else"}
# How the answer reads in the conversation, where it is stored before PaCo's guidance.
_TOOK = {"all": "all of my P.A.D. medicines", "some": "some of my P.A.D. medicines",
         "none": "none of my P.A.D. medicines"}
_WHY = {"forgot": "I forgot.", "side_effects": "side effects.", "cost": "the cost.", "ran_out": "I ran out.",
        "on_purpose": "I skipped them on purpose.", "other": "something else."}


@dataclass(frozen=True)
class Settings:
    """A cohort's check-in settings (a participant with no cohort gets a new cohort's defaults)."""

    enabled: bool = True
    weekdays: str = WEEKDAYS_ALL
    wording: str = "v1"

    def asks_on(self, day: date) -> bool:
        return self.enabled and str(day.isoweekday()) in self.weekdays

    @property
    def question(self) -> str:
        return WORDINGS.get(self.wording, WORDINGS["v1"])


def settings_of(participant: ResearchID) -> Settings:
    cohort = participant.cohort
    if cohort is None:
        return Settings()
    return Settings(bool(cohort.checkin_enabled), cohort.checkin_weekdays or "", cohort.checkin_wording or "v1")


def settings_problem(enabled: bool, weekdays: str | None, wording: str | None) -> str | None:
    """Why a cohort's check-in settings cannot be saved, or None (the admin form's rule)."""
    weekdays = weekdays or ""
    if any(ch not in WEEKDAYS_ALL for ch in weekdays) or len(set(weekdays)) != len(weekdays):
        return "Check-in weekdays are digits 1 (Monday) to 7 (Sunday), each at most once, e.g. 135."
    if enabled and not weekdays:
        return "Name at least one weekday for the check-in, or turn it off."
    if wording not in WORDINGS:
        return f"The check-in wording must be one of: {', '.join(WORDINGS)}."
    return None


def question_json(settings: Settings) -> dict:
    """What the page shows: the wording version's question, the answers and the reasons."""
    return {"wording": settings.wording, "text": settings.question,
            "answers": [{"code": code, "label": label} for code, label in ANSWERS.items()],
            "reasons": [{"code": code, "label": label} for code, label in REASONS.items()]}


PROMPTS = ("checkin", "checkin_reason")


def prompt_text(settings: Settings, prompt: str) -> str:
    """What the card says aloud when speech is on: the question with its answers, or the reasons."""
    if prompt == "checkin":
        return f"{settings.question} Choose: all of them, some of them, or none of them."
    if prompt == "checkin_reason":
        return ("What got in the way? If you like, choose a reason: I forgot, side effects, the cost, "
                "I ran out, I skipped on purpose, or something else.")
    raise InvalidInput("invalid_field", f"The field 'prompt' must be one of: {', '.join(PROMPTS)}.")


# --- days ------------------------------------------------------------------------------------

def check_offset(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > TZ_OFFSET_MAX:
        raise InvalidInput("invalid_tz_offset", "The field 'tz_offset_minutes' must be a whole number of minutes "
                                                f"east of UTC, from -{TZ_OFFSET_MAX} to {TZ_OFFSET_MAX}.")
    return value


def local_today(tz_offset_minutes: int, now: datetime | None = None) -> date:
    """The participant's calendar day now: UTC shifted by their offset (minutes east of UTC)."""
    return ((now or utcnow()) + timedelta(minutes=tz_offset_minutes)).date()


def answer_day(raw: str | None, today: date) -> date:
    """The day an answer is for: today when not given; never in the future, at most a week back."""
    if raw is None:
        return today
    try:
        if len(raw) != 10:
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("invalid_date", "The field 'date' must be a day like 2026-03-31.") from None
    if day > today:
        raise InvalidInput("date_in_future", f"{day.isoformat()} has not happened yet where you are "
                                             f"(today is {today.isoformat()}).")
    if day < today - timedelta(days=MAX_DAYS_BACK):
        raise InvalidInput("date_too_old", f"Answers can be given or changed for the last {MAX_DAYS_BACK} days "
                                           f"only (from {(today - timedelta(days=MAX_DAYS_BACK)).isoformat()}).")
    return day


# --- answering ----------------------------------------------------------------------------------

def _checked_answer(taken: str, reason: str | None, note: str | None) -> tuple[str, str | None, str]:
    if taken not in CHECKIN_TAKEN:
        raise InvalidInput("invalid_field", f"The field 'taken' must be one of: {', '.join(CHECKIN_TAKEN)}.")
    note = check_text(note or "", "note").strip()
    if len(note) > CHECKIN_NOTE_MAX_LENGTH:
        raise InvalidInput("invalid_field", f"The field 'note' is longer than {CHECKIN_NOTE_MAX_LENGTH} characters.")
    if taken == "all" and (reason is not None or note):
        raise InvalidInput("invalid_field", "A reason or note goes only with 'some' or 'none'.")
    if reason is not None and reason not in BARRIERS:
        raise InvalidInput("invalid_field", f"The field 'reason' must be one of: {', '.join(BARRIERS)}.")
    return taken, reason, note


def record(participant: ResearchID, taken: str, reason: str | None = None, note: str | None = None,
           day: str | None = None, tz_offset_minutes: int = 0, now: datetime | None = None) -> tuple[Checkin, bool]:
    """Keep one answer, and make it the day's self-reported adherence record.

    Returns the stored answer and whether it is the day's first (False: a change, the earlier
    answers stay in the history).
    """
    settings = settings_of(participant)
    if not settings.enabled:
        raise Forbidden("checkins_off", "Your study does not ask for daily check-ins.")
    taken, reason, note = _checked_answer(taken, reason, note)
    now = now or utcnow()
    tz_offset_minutes = check_offset(tz_offset_minutes)
    on = answer_day(day, local_today(tz_offset_minutes, now))
    research_id = participant.research_id
    value = VALUES[taken]
    with committing() as session:
        first = session.execute(db.select(Checkin.id).where(
            Checkin.research_id == research_id, Checkin.date == on).limit(1)).first() is None
        checkin = Checkin(research_id=research_id, date=on, taken=taken, reason=reason, note=note, value=value,
                          tz_offset_minutes=tz_offset_minutes, wording=settings.wording, answered_at=now)
        session.add(checkin)
        _write_record(session, research_id, on, value, reason, note, now)
    return checkin, first


def _write_record(session, research_id: str, on: date, value: float, barrier: str | None, note: str,
                  now: datetime) -> None:
    point = (AdherenceRecord.research_id == research_id, AdherenceRecord.date == on,
             AdherenceRecord.measure == MEASURE, AdherenceRecord.source == SOURCE, AdherenceRecord.medication == "")
    existing = session.execute(db.select(AdherenceRecord).where(*point)).scalar_one_or_none()
    if existing is None:
        try:
            with session.begin_nested():
                session.add(AdherenceRecord(research_id=research_id, date=on, measure=MEASURE, value=value,
                                            source=SOURCE, medication="", barrier=barrier, notes=note,
                                            created_at=now))
            return
        except IntegrityError:  # the same day answered at the same moment elsewhere: update it
            existing = session.execute(db.select(AdherenceRecord).where(*point)).scalar_one()
    existing.value, existing.barrier, existing.notes = value, barrier, note


# --- reading ----------------------------------------------------------------------------------

def check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= HISTORY_DAYS_MAX:
        raise InvalidInput("invalid_field", f"The field 'days' must be a whole number from 1 to {HISTORY_DAYS_MAX}.")
    return days


@dataclass(frozen=True)
class Recent:
    today: date
    latest: list[Checkin]           # the newest answer of each day, oldest day first
    answers: dict[date, int]        # how many answers each day had (changes = answers - 1)
    settings: Settings

    @property
    def answered_today(self) -> bool:
        return any(c.date == self.today for c in self.latest)

    @property
    def due(self) -> bool:
        """Should the card ask today? (The page also remembers a "Not now" for the day.)"""
        return self.settings.asks_on(self.today) and not self.answered_today


def recent(participant: ResearchID, days: int = 14, tz_offset_minutes: int = 0,
           now: datetime | None = None) -> Recent:
    days = check_days(days)
    today = local_today(check_offset(tz_offset_minutes), now)
    rows = db.session.execute(
        db.select(Checkin).where(Checkin.research_id == participant.research_id,
                                 Checkin.date > today - timedelta(days=days), Checkin.date <= today)
        .order_by(Checkin.date, Checkin.answered_at, Checkin.id)).scalars().all()
    latest: dict[date, Checkin] = {}
    answers: dict[date, int] = {}
    for row in rows:
        latest[row.date] = row
        answers[row.date] = answers.get(row.date, 0) + 1
    return Recent(today, list(latest.values()), answers, settings_of(participant))


def checkin_json(checkin: Checkin, answers: int | None = None) -> dict:
    data = {"id": checkin.id, "date": checkin.date.isoformat(), "taken": checkin.taken, "reason": checkin.reason,
            "note": checkin.note, "value": checkin.value, "measure": MEASURE, "wording": checkin.wording,
            "answered_at": iso_utc(checkin.answered_at),
            # PaCo answers a named barrier once, over the chat socket (a "checkin" frame).
            "reply_available": checkin.reason is not None and checkin.reply_message_id is None}
    if answers is not None:
        data["changes"] = answers - 1
    return data


# --- PaCo's answer to the barrier (the chat socket's "checkin" frame) --------------------------------

def for_reply(research_id: str, checkin_id: int) -> Checkin:
    """The answer PaCo is asked to respond to: the participant's own, with a reason, not answered yet."""
    checkin = db.session.get(Checkin, checkin_id) if is_row_id(checkin_id) else None
    if checkin is None or checkin.research_id != research_id:
        raise NotFound("checkin_not_found", "That check-in was not found.")
    if checkin.reason is None:
        raise Conflict("checkin_without_reason", "PaCo answers a check-in that names a reason.")
    if checkin.reply_message_id is not None:
        raise Conflict("checkin_already_answered", "PaCo has already answered that check-in.")
    return checkin


def message_text(checkin: Checkin) -> str:
    """The participant's answer as it reads in the conversation (stored before PaCo's guidance)."""
    today = local_today(checkin.tz_offset_minutes, checkin.answered_at)
    if checkin.date == today:
        when = "today"
    elif checkin.date == today - timedelta(days=1):
        when = "yesterday"
    else:
        when = f"on {checkin.date.strftime('%A')} {checkin.date.day} {checkin.date.strftime('%B')}"
    text = f"Check-in: I took {_TOOK[checkin.taken]} {when}."
    if checkin.reason:
        text += f" What got in the way: {_WHY[checkin.reason]}"
    if checkin.note:
        text += f" {checkin.note}"
    return text


def link_reply(checkin_id: int, message_id: int) -> None:
    with committing() as session:
        session.execute(db.update(Checkin).where(Checkin.id == checkin_id, Checkin.reply_message_id.is_(None))
                        .values(reply_message_id=message_id))
