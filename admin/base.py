"""What every admin view shares: the role gate, audited saves and deletes, audited exports."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import flash, has_request_context, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.validators import ValidationError

from paco import spreadsheet
from paco.errors import PacoError
from paco.extensions import db
from paco.models.audit import AppendOnlyError
from paco.services import audit, enrolment

from . import roles
from .auth import client_ip
from .filters import StudyFilterConverter

# Flask-Admin's view methods and the operation each one performs. Methods not listed are refused.
METHOD_OPERATIONS = {
    "index": "list", "index_view": "list", "details_view": "list", "ajax_lookup": "list",
    "create_view": "create", "edit_view": "edit", "ajax_update": "edit", "delete_view": "delete",
    "action_view": "action", "export": "export",
}
# Refusals people can act on; their message is shown as it is.
EXPECTED_ERRORS = (PacoError, ValidationError, AppendOnlyError)


class StaffGate:
    """Signed out: to the sign-in page. Signed in without the role for this operation: 403."""

    area = "home"
    method_operations: dict[str, str] = {}

    def allows(self, operation: str) -> bool:
        return current_user.is_authenticated and roles.allowed(current_user.role, self.area, operation)

    def is_accessible(self) -> bool:
        return self.allows("list")

    def inaccessible_callback(self, name, **kwargs):
        return self._refuse()

    def _refuse(self):
        if not current_user.is_authenticated:
            return redirect(url_for("staff_auth.login", next=request.full_path.rstrip("?")))
        # In the site's layout, saying why and where to go, rather than a bare error page.
        return self.render("paco_admin/forbidden.html", role=current_user.role), 403

    def _handle_view(self, name, **kwargs):
        operation = self.method_operations.get(name) or METHOD_OPERATIONS.get(name)
        if operation is None or not self.allows(operation):
            return self._refuse()
        return None


class StudyIndexView(StaffGate, AdminIndexView):
    """The landing page: a short summary of the study rather than an empty page."""

    @expose("/")
    def index(self):
        return self.render("paco_admin/index.html", summary=enrolment.study_summary())


def actor() -> str:
    return current_user.email


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 research ID``, ``2 research IDs``: what staff read in messages."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def refusal(err: Exception) -> str:
    return getattr(err, "message", None) or str(err)


def _utc_minutes(view, value, name):
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _utc_iso(view, value, name):
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class StaffModelView(StaffGate, ModelView):
    """A model view whose buttons follow the role, and whose every write is audited.

    ``supports`` lists what the view can do at all; ``roles.PERMISSIONS`` says who may.
    """

    supports = frozenset({"list", "export"})
    action_disallowed_list = ["delete"]  # one-click mass deletion of study data is not offered
    can_view_details = True
    export_types = ["csv"]
    page_size = 50
    can_set_page_size = True
    filter_converter = StudyFilterConverter()
    named_filter_urls = True  # readable, linkable filter URLs: ?flt0_status_equals=paused
    column_type_formatters = {**typefmt.BASE_FORMATTERS, datetime: _utc_minutes}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, datetime: _utc_iso}
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, datetime: _utc_iso}

    def _can(self, operation: str) -> bool:
        if operation not in self.supports:
            return False
        return self.allows(operation) if has_request_context() else True

    can_create = property(lambda self: self._can("create"))
    can_edit = property(lambda self: self._can("edit"))
    can_delete = property(lambda self: self._can("delete"))
    can_export = property(lambda self: self._can("export"))

    def _handle_view(self, name, **kwargs):
        operation = self.method_operations.get(name) or METHOD_OPERATIONS.get(name)
        if operation is None or not self._can(operation):
            return self._refuse()
        return None

    def is_action_allowed(self, name: str) -> bool:
        return self._can("action") and super().is_action_allowed(name)

    # --- hooks for subclasses ------------------------------------------------------------
    def new_model(self, form):
        model = self.build_new_instance()
        form.populate_obj(model)
        return model

    def apply_form(self, form, model) -> None:
        form.populate_obj(model)

    def check(self, model) -> None:
        """Raise a PacoError to refuse a save; its message is shown."""

    def delete_problem(self, model) -> str | None:
        return None

    # --- Flask-Admin's save and delete, audited ------------------------------------------
    def _guarded(self, verb: str, change):
        try:
            return change()
        except EXPECTED_ERRORS as err:
            db.session.rollback()
            flash(f"Could not {verb} the record: {refusal(err)}", "error")
        except IntegrityError:
            db.session.rollback()
            flash(f"Could not {verb} the record: it conflicts with an existing record "
                  "(a duplicate, or a record that others refer to).", "error")
        return False

    def create_model(self, form):
        def change():
            model = self.new_model(form)
            self.check(model)
            return audit.create(model, actor(), client_ip())

        return self._guarded("create", change)

    def update_model(self, form, model):
        def apply(obj):
            self.apply_form(form, obj)
            self.check(obj)

        def change():
            audit.update(model, apply, actor(), client_ip())
            return True

        return self._guarded("save", change)

    def delete_model(self, model):
        problem = self.delete_problem(model)
        if problem:
            flash(problem, "error")
            return False

        def change():
            audit.delete(model, actor(), client_ip())
            return True

        return self._guarded("delete", change)

    def get_export_value(self, model, name):
        return spreadsheet.neutralise(super().get_export_value(model, name))

    def _export_data(self):
        args = self._get_list_extra_args()
        count, _ = self.get_list(None, None, False, args.search, args.filters, execute=False, page_size=0)
        audit.record_and_commit(actor(), "export", self.area,
                                {"format": "csv", "rows": count, "search": args.search or "",
                                 "filters": list(args.filters or [])}, client_ip())
        return super()._export_data()
