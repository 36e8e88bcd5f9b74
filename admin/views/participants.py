"""Cohorts (study arms and their assistant settings) and research IDs (enrolment, bulk changes)."""
from __future__ import annotations

from flask import flash, g, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup, escape
from wtforms import SelectField

from paco.errors import InvalidInput, PacoError
from paco.extensions import db
from paco.models import PARTICIPANT_STATUSES, Cohort, ResearchID
from paco.services import checkins, enrolment
from paco.validation import check_text, is_digits

from ..auth import client_ip
from ..base import StaffModelView, actor, counted, refusal
from ..filters import DisclaimerStateFilter, cohort_filter
from ..forms import MoveCohortForm

ALL_OPERATIONS = frozenset({"list", "create", "edit", "delete", "export", "action"})
PROVIDER_CHOICES = [("", "Server default")] + [(p, p) for p in enrolment.LLM_PROVIDERS]


class CohortView(StaffModelView):
    area = "cohorts"
    supports = ALL_OPERATIONS
    column_list = ["name", "description", "llm_provider", "llm_model", "prompt_version",
                   "tts_enabled", "tts_voice", "checkin_enabled", "created_at"]
    column_labels = {"llm_provider": "LLM provider", "llm_model": "LLM model", "tts_enabled": "Speech",
                     "tts_voice": "Voice", "checkin_enabled": "Daily check-in"}
    column_searchable_list = ["name", "description"]
    column_default_sort = "name"
    form_columns = ["name", "description", "llm_provider", "llm_model", "prompt_version",
                    "tts_enabled", "tts_voice", "daily_llm_tokens", "daily_tts_chars",
                    "checkin_enabled", "checkin_weekdays", "checkin_wording", "contact_text"]
    form_overrides = {"llm_provider": SelectField}
    form_choices = {"checkin_wording": [(v, f"{v}: {text}") for v, text in checkins.WORDINGS.items()]}
    form_args = {
        # A plain select whose empty choice says what it means (form_choices would add a blank "__None").
        "llm_provider": {"choices": PROVIDER_CHOICES, "label": "LLM provider"},
        "llm_model": {"description": "Empty: the server's configured model."},
        "prompt_version": {"description": "Empty: the server's current prompt version."},
        "tts_voice": {"description": "Empty: the server's default voice."},
        "daily_llm_tokens": {"label": "Daily LLM tokens per participant",
                             "description": "0: no cap. Past it, answers come from the offline knowledge base."},
        "daily_tts_chars": {"label": "Daily speech characters per participant",
                            "description": "0: no cap. Past it, answers are shown but not spoken."},
        "checkin_enabled": {"label": "Daily check-in",
                            "description": "The chat page asks once a day whether the P.A.D. medicines were taken."},
        "checkin_weekdays": {"label": "Check-in weekdays",
                             "description": "The days the card asks: 1 = Monday ... 7 = Sunday, e.g. 1234567 "
                                            "or 135. Participants can answer on other days from their 14-day view."},
        "checkin_wording": {"label": "Check-in wording",
                            "description": "The question's wording version; each answer records the one shown."},
        "contact_text": {"label": "Contact for paused participants",
                         "description": "Shown to a participant whose access is paused or ended, e.g. "
                                        "'Call Ana, the study nurse, on 555-0100 (weekdays 9 to 5).'"},
    }

    def check(self, cohort):
        for name in ("llm_provider", "llm_model", "prompt_version", "tts_voice"):
            value = (getattr(cohort, name) or "").strip()
            setattr(cohort, name, value or None)  # empty means "server default", stored as NULL
        # "1, 3, 5" or "531" is stored "135" (duplicates and other characters are refused below).
        cohort.checkin_weekdays = "".join(sorted(ch for ch in (cohort.checkin_weekdays or "") if ch not in " ,"))
        cohort.contact_text = check_text((cohort.contact_text or "").strip(), "contact_text")
        problem = enrolment.cohort_settings_problem(cohort) or checkins.settings_problem(
            bool(cohort.checkin_enabled), cohort.checkin_weekdays, cohort.checkin_wording)
        if problem:
            raise InvalidInput("invalid_cohort_settings", problem)

    def delete_problem(self, cohort):
        return enrolment.cohort_delete_problem(cohort)


def _disclaimer_state(view, context, participant, name):
    acknowledged = g.get("acknowledged_current")
    if acknowledged is None:
        return ""
    return "acknowledged" if participant.research_id in acknowledged else "pending"


class ResearchIDView(StaffModelView):
    area = "research_ids"
    supports = ALL_OPERATIONS
    method_operations = {"move_cohort_view": "action"}
    column_list = ["research_id", "cohort", "status", "disclaimer", "enrolled_at", "status_changed_at"]
    column_export_list = ["research_id", "cohort", "status", "disclaimer", "enrolled_at",
                          "status_changed_at", "created_at"]
    column_labels = {"research_id": "Research ID", "disclaimer": "Current disclaimer"}
    column_formatters = {"disclaimer": _disclaimer_state}
    column_searchable_list = ["research_id"]
    column_sortable_list = ["research_id", ("cohort", "cohort.name"), "status", "enrolled_at",
                            "status_changed_at"]
    column_default_sort = "research_id"
    column_filters = [
        FilterEqual(ResearchID.status, "Status", options=[(s, s) for s in PARTICIPANT_STATUSES]),
        cohort_filter(),
        DisclaimerStateFilter(),
        "enrolled_at",
    ]
    form_columns = ["research_id", "cohort", "status"]
    form_choices = {"status": [(s, s) for s in PARTICIPANT_STATUSES]}
    form_args = {"research_id": {"description": "Letters, digits, '-', '_' and '.'; stored upper-case."},
                 "cohort": {"blank_text": "(no cohort)"}}

    def get_list(self, *args, **kwargs):
        count, data = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True):
            g.acknowledged_current = enrolment.acknowledged_current([p.research_id for p in data])
        return count, data

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.research_id  # other tables refer to it: a research ID is never renamed
        return form

    def new_model(self, form):
        return enrolment.new_research_id(form.research_id.data, form.cohort.data, form.status.data)

    def apply_form(self, form, participant):
        old_status = participant.status
        form.populate_obj(participant)
        enrolment.note_status_change(participant, old_status)

    def delete_problem(self, participant):
        return enrolment.research_id_delete_problem(participant)

    # --- bulk actions --------------------------------------------------------------------
    def _research_ids(self, pks) -> list[str]:
        keys = [int(pk) for pk in pks if is_digits(str(pk))]
        return list(db.session.execute(
            db.select(ResearchID.research_id).where(ResearchID.id.in_(keys))
        ).scalars())

    def _set_status(self, pks, verb: str):
        research_ids = self._research_ids(pks)
        try:
            changed = enrolment.set_status(research_ids, verb, actor(), client_ip())
        except PacoError as err:
            flash(refusal(err), "error")
            return
        status = enrolment.STATUS_ACTIONS[verb]
        unchanged = len(research_ids) - changed
        note = f" ({unchanged} already {status})" if unchanged else ""
        flash(f"{counted(changed, 'research ID')} set to {status}{note}.", "success")

    @action("activate", "Activate", "Activate the selected research IDs? They can sign in again.")
    def action_activate(self, pks):
        self._set_status(pks, "activate")

    @action("pause", "Pause", "Pause the selected research IDs? They cannot sign in until activated.")
    def action_pause(self, pks):
        self._set_status(pks, "pause")

    @action("withdraw", "Withdraw", "Withdraw the selected research IDs from the study? "
            "They are refused at once; their data is kept.")
    def action_withdraw(self, pks):
        self._set_status(pks, "withdraw")

    @action("move_cohort", "Move to cohort…")
    def action_move_cohort(self, pks):
        form = MoveCohortForm(research_ids=",".join(self._research_ids(pks)))
        return self._render_move(form)

    def _render_move(self, form):
        cohorts = db.session.execute(db.select(Cohort).order_by(Cohort.name)).scalars().all()
        form.cohort_id.choices = [(c.id, c.name) for c in cohorts]
        ids = [r for r in (form.research_ids.data or "").split(",") if r]
        return self.render("paco_admin/move_cohort.html", form=form, research_ids=ids,
                           return_url=self.get_url(".index_view"))

    @expose("/move-cohort/", methods=["POST"])
    def move_cohort_view(self):
        form = MoveCohortForm(request.form)
        cohorts = db.session.execute(db.select(Cohort.id, Cohort.name)).all()
        form.cohort_id.choices = [(c.id, c.name) for c in cohorts]
        if not form.validate():
            flash("Choose a cohort to move the research IDs to.", "error")
            return self._render_move(form)
        ids = [r for r in form.research_ids.data.split(",") if r]
        try:
            changed = enrolment.move_to_cohort(ids, form.cohort_id.data, actor(), client_ip())
        except PacoError as err:
            flash(refusal(err), "error")
        else:
            name = dict((c.id, c.name) for c in cohorts)[form.cohort_id.data]
            flash(Markup("{} moved to <b>{}</b>.").format(counted(changed, "research ID"), escape(name)), "success")
        return redirect(self.get_url(".index_view"))
