"""Staff sign-in and sign-out (Flask-Login), the idle timeout, and who is signed in."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from paco.extensions import db
from paco.models import StaffUser
from paco.services import audit, staff
from paco.validation import is_digits
from paco.web_extensions import limiter

from .forms import LoginForm

bp = Blueprint("staff_auth", __name__, url_prefix="/admin", template_folder="templates")

# One answer for unknown email, wrong password, locked and disabled accounts: it reveals nothing.
SIGN_IN_REFUSED = ("That email and password did not work. After {failures} failed attempts an "
                   "account is locked for {minutes} minutes.")
SEEN_KEY = "staff_seen"


class StaffIdentity(UserMixin):
    """The signed-in person as Flask-Login sees them; rebuilt from the database on each request."""

    def __init__(self, user: StaffUser):
        self.id = f"{user.id}:{staff.session_fingerprint(user)}"
        self.staff_id = user.id
        self.email = user.email
        self.role = user.role


def _load_user(user_id: str) -> StaffIdentity | None:
    staff_id, _, fingerprint = user_id.partition(":")
    if not is_digits(staff_id):
        return None
    user = db.session.get(StaffUser, int(staff_id))
    # A disabled account, or a changed password, ends the session at its next request.
    if user is None or not user.active or staff.session_fingerprint(user) != fingerprint:
        return None
    return StaffIdentity(user)


def init_auth(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "staff_auth.login"
    manager.login_message = "Please sign in to continue."
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    manager.init_app(app)
    app.register_blueprint(bp)


def client_ip() -> str | None:
    return request.remote_addr


def safe_next(target: str | None) -> str:
    """Only ever return to a page of this site's admin, never to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin") \
                and not parts.path.startswith("/admin/login"):
            return target
    return url_for("admin.index")


@bp.before_app_request
def _idle_timeout():
    """Sign staff out after a quiet spell; every admin page visit restarts the clock."""
    if not request.path.startswith("/admin") or (request.endpoint or "").endswith(".static"):
        return
    if not current_user.is_authenticated:
        return
    now = time.time()
    limit = current_app.config["PACO_STAFF_SESSION_MINUTES"] * 60
    seen = session.get(SEEN_KEY)
    if seen is None or now - seen > limit:
        audit.record_and_commit(current_user.email, "signout.timeout", f"staff_users:{current_user.email}",
                                {"idle_minutes": current_app.config["PACO_STAFF_SESSION_MINUTES"]}, client_ip())
        logout_user()
        session.clear()
        flash("You were signed out after {} minutes without activity.".format(
            current_app.config["PACO_STAFF_SESSION_MINUTES"]), "warning")
        return
    session[SEEN_KEY] = now


def _sign_in_limit():
    return current_app.config["PACO_RATE_LIMIT_AUTH"]


@bp.route("/login/", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def login():
    target = request.args.get("next")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(target))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        config = current_app.config
        result = staff.authenticate(form.email.data, form.password.data, client_ip(),
                                    max_failures=config["PACO_STAFF_LOCKOUT_FAILURES"],
                                    lock_minutes=config["PACO_STAFF_LOCKOUT_MINUTES"])
        if result.user is not None:
            session.clear()  # nothing from before sign-in is carried into the signed-in session
            login_user(StaffIdentity(result.user))
            session[SEEN_KEY] = time.time()
            return redirect(safe_next(target))
        error = SIGN_IN_REFUSED.format(failures=config["PACO_STAFF_LOCKOUT_FAILURES"],
                                       minutes=config["PACO_STAFF_LOCKOUT_MINUTES"])
        status = 401
    elif request.method == "POST":
        error = "Enter your email and password."
        status = 400
    return render_template("paco_admin/login.html", form=form, error=error), status


@bp.route("/logout/", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = db.session.get(StaffUser, current_user.staff_id)
        staff.sign_out(user, client_ip())
        logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("staff_auth.login"))
