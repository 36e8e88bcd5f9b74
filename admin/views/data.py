"""Adherence records (entered or corrected by data managers) and the audit log (read-only)."""
from __future__ import annotations

import json

from flask import flash, redirect
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup
from wtforms import FloatField
from wtforms.validators import InputRequired

from paco.models import ADHERENCE_MEASURES, BARRIERS, AdherenceRecord
from paco.services import adherence, audit

from ..base import StaffModelView


class AdherenceView(StaffModelView):
    area = "adherence"
    supports = frozenset({"list", "create", "edit", "delete", "export"})
    column_list = ["research_id", "date", "measure", "value", "medication", "source", "import_batch", "created_at",
                   "barrier"]
    column_labels = {"research_id": "Research ID"}
    column_searchable_list = ["research_id", "source", "import_batch"]
    column_filters = [
        "research_id",
        FilterEqual(AdherenceRecord.measure, "Measure", options=[(m, m) for m in ADHERENCE_MEASURES]),
        "date", "source", "import_batch",
        FilterEqual(AdherenceRecord.barrier, "Barrier", options=[(b, b) for b in BARRIERS]),
    ]
    column_default_sort = [("research_id", False), ("date", True)]
    form_columns = ["research_id", "date", "measure", "value", "medication", "source", "notes", "barrier"]
    form_choices = {"measure": [(m, m) for m in ADHERENCE_MEASURES], "barrier": [("", "")] + [(b, b) for b in BARRIERS]}
    form_args = {"source": {"description": "Where the value comes from, e.g. 'clinic visit'."},
                 "medication": {"description": "Empty when the value covers all P.A.D. medicines."},
                 "barrier": {"description": "Why doses were missed, when the participant said (check-ins fill it)."}}
    # Flask-Admin's converter does not recognise SQLAlchemy 2.1's Float, so the field is given.
    form_extra_fields = {"value": FloatField("Value", validators=[InputRequired()],
                                             description=adherence.FRACTION_HINT)}

    def check(self, record):
        adherence.check_record(record)


def _detail(view, context, event, name):
    text = event.detail
    return text if len(text) <= 200 else text[:197] + "…"


def _detail_pretty(view, context, event, name):
    try:
        pretty = json.dumps(json.loads(event.detail), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        pretty = event.detail
    return Markup("<pre class='mb-0'>{}</pre>").format(pretty)


class AuditEventView(StaffModelView):
    area = "audit"
    list_template = "paco_admin/audit_list.html"
    method_operations = {"verify_view": "list"}
    column_list = ["id", "at", "actor", "action", "target", "detail", "ip"]
    column_details_list = ["id", "at", "actor", "action", "target", "detail", "ip", "prev_hash", "hash"]
    column_export_list = ["id", "at", "actor", "action", "target", "detail", "ip", "prev_hash", "hash"]
    column_formatters = {"detail": _detail}
    column_formatters_detail = {"detail": _detail_pretty}
    column_formatters_export = {}
    column_searchable_list = ["actor", "action", "target", "detail"]
    column_filters = ["action", "actor", "target", "at", "ip"]
    column_default_sort = ("id", True)

    @expose("/verify/")
    def verify_view(self):
        report = audit.verify_chain()
        if report.intact:
            flash(f"Checked {report.checked} audit events: the chain is intact.", "success")
        else:
            flash(f"The audit chain is broken at event {report.broken_id}: {report.reason}.", "error")
        return redirect(self.get_url(".index_view"))
