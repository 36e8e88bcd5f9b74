"""The Import page: the data managers' files, checked first (a dry run), then imported on a click.

Thin over paco.services.imports, the same service as ``flask ids import`` and ``flask adherence
import``. The uploaded file waits in the instance folder between the check and the import, under a
random name remembered in the staff member's signed session (so the import is exactly the file
that was checked, with the options it was checked with).
"""
from __future__ import annotations

import logging
import os
import re
import secrets

import gevent
from flask import current_app, flash, redirect, request, send_file, session, url_for
from flask_admin import BaseView, expose
from werkzeug.exceptions import RequestEntityTooLarge

from paco.errors import InvalidInput, PacoError
from paco.extensions import db
from paco.models import ADHERENCE_MEASURES, Cohort
from paco.services import imports

from ..auth import client_ip
from ..base import StaffGate, actor, counted, refusal

log = logging.getLogger("paco.admin.imports")
KINDS = {"research_ids": "Research IDs", "adherence": "Adherence data"}
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
SESSION_KEY = "paco_import"


def upload_dir() -> str:
    """PACO_IMPORT_DIR: shared by every instance, since the import may be clicked on another one."""
    path = current_app.config["PACO_IMPORT_DIR"]
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def too_large_message() -> str:
    limit = current_app.config["PACO_IMPORT_MAX_BYTES"]
    size = f"{limit / 1048576:.0f} MB" if limit >= 1048576 else f"{limit / 1024:.0f} KB"
    return (f"The file is larger than {size}, the limit of this page. "
            "Import it with the command line (flask ids import / flask adherence import), which has no limit.")


def allow_upload():
    """Before the CSRF check reads the form: the Import page takes files up to its own limit, and
    a larger one is turned away with a message (rather than a bare 413) before it is read."""
    if request.path.startswith("/admin/import/") and request.method == "POST":
        limit = current_app.config["PACO_IMPORT_MAX_BYTES"]
        if request.content_length is not None and request.content_length > limit:
            flash(too_large_message(), "error")
            return redirect(url_for("admin_import.index"))
        request.max_content_length = limit
    return None


def _yield_to_others(done, total):
    # Checking a file is CPU work: let other greenlets (chats) run between chunks.
    gevent.sleep(0)


class ImportView(StaffGate, BaseView):
    area = "imports"
    method_operations = {"index": "list", "check": "create", "commit": "create", "report": "list",
                         "undo": "action"}

    def is_visible(self):
        return self.allows("list")

    def _page(self, **context):
        cohorts = db.session.execute(db.select(Cohort.name).order_by(Cohort.name)).scalars().all()
        return self.render("paco_admin/import.html", kinds=KINDS, measures=ADHERENCE_MEASURES,
                           scales=imports.SCALES, cohorts=cohorts, batches=imports.recent_batches(),
                           limit_mb=current_app.config["PACO_IMPORT_MAX_BYTES"] / 1048576, **context)

    @expose("/")
    def index(self):
        return self._page(options={})

    def _options(self, form) -> dict:
        return {"kind": form.get("kind", ""), "cohort": form.get("cohort", "").strip(),
                "create_cohort": form.get("create_cohort") == "y", "measure": form.get("measure", ""),
                "source": form.get("source", "").strip(), "scale": form.get("scale", "fraction"),
                "sheet": form.get("sheet", "").strip() or None}

    def _run(self, path: str, file_name: str, options: dict, dry_run: bool, report_to=None):
        common = dict(actor=actor(), ip=client_ip(), file_name=file_name, dry_run=dry_run,
                      sheet=options["sheet"], report_to=report_to, progress=_yield_to_others)
        if options["kind"] == "research_ids":
            return imports.import_research_ids(path, options["cohort"], create_cohort=options["create_cohort"],
                                               **common)
        if options["kind"] == "adherence":
            return imports.import_adherence(path, options["measure"], source=options["source"],
                                            scale=options["scale"], **common)
        raise InvalidInput("invalid_kind", "Choose what the file holds: research IDs or adherence data.")

    @expose("/check/", methods=["POST"])
    def check(self):
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            flash(too_large_message(), "error")
            return redirect(url_for(".index"))
        options = self._options(request.form)
        if upload is None or not upload.filename:
            flash("Choose a file to import (CSV or XLSX).", "error")
            return self._page(options=options)
        token = secrets.token_hex(16)
        path = os.path.join(upload_dir(), token)
        upload.save(path)
        file_name = os.path.basename(upload.filename)[:255]
        try:
            with open(path + ".report.csv", "w", newline="", encoding="utf-8") as report_to:
                report = self._run(path, file_name, options, dry_run=True, report_to=report_to)
        except PacoError as err:
            os.remove(path)
            flash(refusal(err), "error")
            return self._page(options=options)
        self._forget()
        session[SESSION_KEY] = {"token": token, "file_name": file_name, "options": options, "ok": report.ok}
        if not report.ok:
            os.remove(path)  # nothing can be imported from it; the report stays for download
        return self._page(options=options, report=report, token=token)

    @expose("/commit/", methods=["POST"])
    def commit(self):
        pending = session.get(SESSION_KEY) or {}
        token = request.form.get("token", "")
        if not pending.get("ok") or pending.get("token") != token or not _TOKEN.match(token):
            flash("That check has expired or was replaced by another one: upload the file again.", "error")
            return redirect(url_for(".index"))
        path = os.path.join(upload_dir(), token)
        if not os.path.exists(path):
            # Checked on an instance whose PACO_IMPORT_DIR this one does not share (or removed since).
            log.warning({"event": "import_file_missing", "dir": upload_dir(),
                         "hint": "PACO_IMPORT_DIR must be a directory every instance shares"})
            flash("The checked file is no longer here: upload the file again.", "error")
            return redirect(url_for(".index"))
        try:
            report = self._run(path, pending["file_name"], pending["options"], dry_run=False)
        except PacoError as err:
            flash(refusal(err), "error")
            return redirect(url_for(".index"))
        self._forget()
        if not report.ok:  # the database changed since the check (e.g. an ID moved cohort)
            flash(f"{counted(report.problem_count, 'problem')} appeared since the check: nothing was imported. "
                  "Upload the file again to see them.", "error")
        elif report.batch_id:
            flash(f"Imported {report.file_name} as batch {report.batch_id}. {report.counts_line}.", "success")
        else:
            flash(f"Nothing to change: everything in {report.file_name} is already in PaCo. "
                  f"{report.counts_line}.", "info")
        return redirect(url_for(".index"))

    @expose("/report/<token>.csv")
    def report(self, token):
        pending = session.get(SESSION_KEY) or {}
        if not _TOKEN.match(token) or pending.get("token") != token:
            return self._refuse_missing()
        path = os.path.join(upload_dir(), token + ".report.csv")
        if not os.path.exists(path):
            return self._refuse_missing()
        return send_file(path, mimetype="text/csv", as_attachment=True,
                         download_name=f"problems-{pending['file_name']}.csv")

    def _refuse_missing(self):
        flash("That report is no longer available: check the file again.", "error")
        return redirect(url_for(".index"))

    @expose("/undo/<batch_id>/", methods=["POST"])
    def undo(self, batch_id):
        try:
            batch, removed = imports.undo_batch(batch_id, actor(), client_ip())
        except PacoError as err:
            flash(refusal(err), "error")
        else:
            flash(f"Batch {batch.id} undone: {counted(removed, 'row')} removed.", "success")
        return redirect(url_for(".index"))

    def _forget(self):
        """A new check replaces the previous one: its waiting file and report go."""
        previous = session.pop(SESSION_KEY, None)
        if previous and _TOKEN.match(previous.get("token", "")):
            for suffix in ("", ".report.csv"):
                try:
                    os.remove(os.path.join(upload_dir(), previous["token"] + suffix))
                except FileNotFoundError:
                    pass
