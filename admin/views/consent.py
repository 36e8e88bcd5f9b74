"""Disclaimer versions (draft → publish, never edited once published) and acknowledgments."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.model.template import LinkRowAction
from markupsafe import Markup
from wtforms import TextAreaField

from paco.errors import PacoError
from paco.extensions import db
from paco.models import Disclaimer, DisclaimerAcknowledgment
from paco.services import consent
from paco.validation import is_digits

from ..auth import client_ip
from ..base import StaffModelView, actor, refusal


def _state(view, context, disclaimer, name):
    if disclaimer.published_at is None:
        return Markup('<span class="badge badge-warning">draft</span>')
    current = consent.current_disclaimer()
    label = "published, current" if current is not None and current.id == disclaimer.id else "published"
    return Markup('<span class="badge badge-success">{}</span>').format(label)


def _excerpt(view, context, disclaimer, name):
    text = disclaimer.text
    return text if len(text) <= 120 else text[:117] + "…"


def _short_hash(view, context, row, name):
    return Markup('<span class="text-monospace" title="{}">{}…</span>').format(
        row.content_hash, row.content_hash[:12])


class DisclaimerView(StaffModelView):
    area = "disclaimers"
    supports = frozenset({"list", "create", "edit", "delete", "action", "export"})
    column_list = ["version", "state", "text", "created_at", "published_at", "content_hash"]
    column_export_list = ["version", "published_at", "created_at", "content_hash", "text"]
    column_formatters = {"state": _state, "text": _excerpt, "content_hash": _short_hash}
    column_details_list = ["version", "state", "published_at", "created_at", "content_hash", "text"]
    column_formatters_detail = {"state": _state}  # the full text and hash, not the list's excerpts
    column_formatters_export = {}
    column_default_sort = ("version", True)
    column_searchable_list = ["text"]
    form_columns = ["text"]
    form_overrides = {"text": TextAreaField}
    form_widget_args = {"text": {"rows": 16}}
    form_args = {"text": {"description": "Saved as a draft. Publish it from the list (select it, "
                                         "then With selected → Publish)."}}
    column_extra_row_actions = [
        LinkRowAction("fa fa-copy", "./new/?from={row_id}", title="New version from this text"),
    ]

    def _handle_view(self, name, **kwargs):
        refused = super()._handle_view(name, **kwargs)
        if refused is not None or name != "edit_view":
            return refused
        disclaimer = self.get_one(request.args.get("id", ""))
        problem = disclaimer is not None and consent.published_change_problem(disclaimer)
        if problem:
            flash(problem, "warning")
            return redirect(self.get_url(".create_view", **{"from": disclaimer.id}))
        return None

    def create_form(self, obj=None):
        form = super().create_form(obj)
        source_id = request.args.get("from", "")
        if request.method == "GET" and is_digits(source_id):
            source = db.session.get(Disclaimer, int(source_id))
            if source is not None:
                form.text.data = source.text
        return form

    def create_model(self, form):
        return self._guarded("create", lambda: consent.create_draft(
            form.text.data, actor(), client_ip()))

    def update_model(self, form, disclaimer):
        return self._guarded("save", lambda: consent.edit_draft(
            disclaimer, form.text.data, actor(), client_ip()) or True)

    def delete_problem(self, disclaimer):
        return consent.published_change_problem(disclaimer)

    @action("publish", "Publish",
            "Publish this version? From now on every participant must acknowledge it before "
            "they can sign in, and its text can no longer change.")
    def action_publish(self, pks):
        if len(pks) != 1:
            flash("Select exactly one draft to publish.", "error")
            return
        disclaimer = self.get_one(pks[0])
        if disclaimer is None:
            flash("That disclaimer no longer exists.", "error")
            return
        try:
            consent.publish(disclaimer, actor(), client_ip())
        except PacoError as err:
            flash(refusal(err), "error")
            return
        flash(f"Disclaimer v{disclaimer.version} is published; participants will be asked to "
              "acknowledge it at their next sign-in.", "success")


class AcknowledgmentView(StaffModelView):
    area = "acknowledgments"
    list_template = "paco_admin/acknowledgment_list.html"
    column_list = ["research_id", "version", "acknowledged_at", "user_agent", "content_hash"]
    column_labels = {"research_id": "Research ID"}
    column_formatters = {"content_hash": _short_hash}
    column_formatters_detail = {}
    column_formatters_export = {}
    column_searchable_list = ["research_id", "user_agent"]
    column_default_sort = ("acknowledged_at", True)
    column_filters = [IntEqualFilter(DisclaimerAcknowledgment.version, "Version"), "research_id",
                      "acknowledged_at"]

    def render(self, template, **kwargs):
        kwargs.setdefault("current_disclaimer", consent.current_disclaimer())
        return super().render(template, **kwargs)
