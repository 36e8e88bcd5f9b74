"""Staff accounts (admins only): roles, disabling, unlocking, setting a password."""
from __future__ import annotations

from flask_login import current_user
from wtforms import BooleanField, PasswordField
from wtforms.validators import EqualTo, Optional

from paco.errors import Conflict, InvalidInput
from paco.models import STAFF_ROLES
from paco.services import staff

from ..base import StaffModelView


class StaffUserView(StaffModelView):
    area = "staff"
    supports = frozenset({"list", "create", "edit", "delete", "export"})
    column_list = ["email", "role", "active", "last_login_at", "failed_logins", "locked_until", "created_at"]
    column_exclude_list = ["password_hash"]
    column_details_exclude_list = ["password_hash"]
    column_export_exclude_list = ["password_hash"]
    column_export_list = ["email", "role", "active", "created_at", "last_login_at", "failed_logins",
                          "locked_until"]
    column_searchable_list = ["email"]
    column_filters = ["role", "active"]
    column_default_sort = "email"
    form_columns = ["email", "role", "active", "new_password", "confirm_password", "unlock"]
    form_choices = {"role": [(r, r.replace("_", " ")) for r in STAFF_ROLES]}
    form_args = {"role": {"default": "investigator"}}  # the least access unless chosen otherwise
    form_extra_fields = {
        "new_password": PasswordField("New password", validators=[Optional()],
                                      description=f"At least {staff.PASSWORD_MIN_LENGTH} characters. "
                                                  "When editing, leave empty to keep the current one."),
        "confirm_password": PasswordField("Repeat the new password", validators=[
            EqualTo("new_password", message="The two passwords do not match.")]),
        "unlock": BooleanField("Unlock (clear failed sign-ins)"),
    }

    def create_form(self, obj=None):
        form = super().create_form(obj)
        del form.unlock
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.email  # the email is the account's name in the audit log
        return form

    def new_model(self, form):
        if not form.new_password.data:
            raise InvalidInput("missing_password", "Set a password for the new account.")
        user = staff.new_staff(form.email.data, form.role.data, form.new_password.data)
        user.active = bool(form.active.data)
        return user

    def apply_form(self, form, user):
        form.role.populate_obj(user, "role")
        form.active.populate_obj(user, "active")
        if form.new_password.data:
            problem = staff.password_problem(form.new_password.data, user.email)
            if problem:
                raise InvalidInput("weak_password", problem)
            user.password_hash = staff.hash_password(form.new_password.data)
        if form.unlock.data or form.new_password.data:
            user.failed_logins = 0
            user.locked_until = None

    def check(self, user):
        problem = staff.change_problem(user, current_user.staff_id)
        if problem:
            raise Conflict("staff_change_refused", problem)

    def delete_problem(self, user):
        return staff.delete_problem(user, current_user.staff_id)
