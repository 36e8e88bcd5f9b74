"""The investigator dashboards at /admin/dashboards/<name>/, their exports and the transcript view.

Thin over ``analytics``: parse the filters from the URL, build the dashboard, render. Figures
travel as JSON in ``<script type="application/json">`` blocks and are drawn by a static script
(the admin CSP allows no inline script and no eval); plotly.js is served from the plotly package.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from datetime import datetime, timezone

import plotly
from flask import abort, after_this_request, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from analytics import DASHBOARDS, Filters, build, figures
from analytics.dashboards.conversations import transcript
from analytics.datasets import DATASETS
from analytics.exports import FORMATS, check, export
from paco import spreadsheet
from paco.errors import PacoError
from paco.extensions import db
from paco.models import PARTICIPANT_STATUSES, Cohort
from paco.offload import off_the_loop
from paco.services import audit, rollups

from .. import roles
from ..auth import client_ip
from ..base import StaffGate

PLOTLY_JS = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
# The dataset each dashboard's Export button offers first.
DEFAULT_DATASET = {"overview": "participants", "engagement": "messages", "adherence": "adherence",
                   "disclaimers": "acknowledgments", "conversations": "messages", "latency": "turn_metrics"}
# Who may export a dataset follows who may export the same rows from its list view (admin/roles.py).
DATASET_AREAS = {"participants": "research_ids", "acknowledgments": "acknowledgments",
                 "conversations": "conversations", "messages": "messages", "turn_metrics": "messages",
                 "adherence": "adherence", "checkins": "checkins", "audit": "audit"}


def cell(value) -> str:
    """A table cell as shown: missing values as a dash, whole floats without ".0"."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def in_app_context(work):
    """``work()`` off the loop (paco.offload), with this app's context: a dashboard takes up to
    ~1.5 s at 10,000 participants, an xlsx export of a million messages minutes (BENCHMARKS.md,
    issue 14)."""
    app = current_app._get_current_object()

    def in_context():
        with app.app_context():
            return work()
    return off_the_loop(in_context)


def figure_json(figure) -> Markup:
    """Figure JSON safe inside a <script> block: no "<" can close it early."""
    return Markup(figures.to_json(figure).replace("<", "\\u003c"))


class DashboardView(StaffGate, BaseView):
    area = "dashboards"
    method_operations = {"home": "list", "dashboard": "list", "transcript_view": "list", "plotly_js": "list",
                         "export_view": "export", "tables_view": "export"}

    def is_visible(self):
        return self.allows("list")

    def _filters(self) -> Filters:
        try:
            return Filters.from_args(request.args, min_cell=current_app.config["PACO_SMALL_CELL_MIN"])
        except PacoError as err:
            flash(err.message, "error")
            return Filters(min_cell=current_app.config["PACO_SMALL_CELL_MIN"])

    def datasets(self) -> list[str]:
        role = current_user.role
        return [d for d in DATASETS if roles.allowed(role, DATASET_AREAS[d], "export")]

    @expose("/")
    def home(self):
        return redirect(url_for(".dashboard", board="overview", **request.args.to_dict(flat=False)))

    @expose("/plotly.min.js")
    def plotly_js(self):
        # Cached by the browser (a day): 4.8 MB that only changes with the pinned plotly version.
        return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=86400)

    @expose("/<board>/")
    def dashboard(self, board):
        name = board  # Flask-Admin's _handle_view takes "name" for the method
        if name not in DASHBOARDS:
            abort(404)
        filters = self._filters()
        board = self._build(name, filters)
        cohorts = db.session.execute(db.select(Cohort.id, Cohort.name).order_by(Cohort.name)).all()
        return self.render("paco_admin/dashboard.html", board=board, filters=filters, args=filters.to_args(),
                           names=list(DASHBOARDS), cohorts=cohorts, statuses=PARTICIPANT_STATUSES,
                           figure_json=figure_json, cell=cell, datasets=self.datasets(), formats=FORMATS,
                           default_dataset=DEFAULT_DATASET[name], link=self._link)

    def _build(self, name: str, filters: Filters):
        """One step of the rollups' refresh, then the dashboard, off the loop."""
        def work():
            try:  # the page is exact without the refresh, only slower: a failure is logged
                rollups.refresh(db.engine, max_steps=1)
            except SQLAlchemyError:
                current_app.logger.exception("dashboard rollups not refreshed")
            with db.engine.connect() as conn:
                return build(name, conn, filters)
        return in_app_context(work)

    def _link(self, kind: str, value) -> str:
        if kind == "participant":
            return url_for("admin_research_ids.index_view", search=value)
        if kind == "transcript":
            return url_for(".transcript_view", conversation_id=value)
        raise KeyError(kind)

    @expose("/conversations/transcript/<conversation_id>/")
    def transcript_view(self, conversation_id):
        try:
            conversation = transcript(db.session.connection(), conversation_id)
        except PacoError:
            abort(404)
        return self.render("paco_admin/transcript.html", conversation=conversation,
                           back=url_for(".dashboard", board="conversations"))

    @expose("/<board>/export", methods=["POST"])
    def export_view(self, board):
        name = board
        if name not in DASHBOARDS:
            abort(404)
        dataset, fmt = request.form.get("dataset", ""), request.form.get("format", "")
        back = url_for(".dashboard", board=name, **request.args.to_dict(flat=False))
        try:
            check(dataset, fmt)
        except PacoError as err:
            flash(err.message, "error")
            return redirect(back)
        if dataset not in self.datasets():
            abort(403)
        filters = self._filters()
        handle, path = tempfile.mkstemp(prefix="paco-export-", suffix=".zip")
        os.close(handle)
        try:
            db.session.commit()
            actor, ip = current_user.email, client_ip()

            def work():
                with db.engine.connect() as conn:
                    export(conn, dataset, fmt, path, filters, actor, ip)
            in_app_context(work)
        except PacoError as err:
            os.unlink(path)
            flash(f"Could not export: {err.message}", "error")
            return redirect(back)

        @after_this_request
        def _remove(response):
            response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
            return response

        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
        return send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name=f"paco-{dataset}-{stamp}.zip")

    @expose("/<board>/tables.zip")
    def tables_view(self, board):
        name = board
        """The dashboard's tables as CSV, small cells suppressed as on the page."""
        if name not in DASHBOARDS:
            abort(404)
        filters = self._filters()
        board = self._build(name, filters)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for panel in board.panels:
                table = panel.table.map(spreadsheet.neutralise)
                archive.writestr(f"{panel.key}.csv", table.to_csv(index=False))
            archive.writestr("manifest.json", json.dumps({
                "dashboard": name, "filters": filters.describe(), "min_cell": filters.min_cell,
                "tables": [{"name": f"{p.key}.csv", "title": p.title, "rows": len(p.table)} for p in board.panels],
            }, indent=2))
        db.session.rollback()
        audit.record_and_commit(current_user.email, "export", f"dashboard:{name}",
                                {"dashboard": name, "format": "csv", "filters": filters.describe(),
                                 "rows": sum(len(p.table) for p in board.panels)}, client_ip())
        buffer.seek(0)
        return send_file(buffer, mimetype="application/zip", as_attachment=True,
                         download_name=f"paco-{name}-dashboard.zip")
