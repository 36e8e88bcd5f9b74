"""The investigator site at /admin: Flask-Admin views, staff sign-in, roles (docs/architecture.md).

``init_admin(app)`` builds a fresh Admin and fresh views for each app: Flask-Admin creates its
blueprints when views are added, so a module-level Admin could serve only one app.
"""
from __future__ import annotations

import os
import secrets

from flask import Flask, g, request
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_wtf.csrf import CSRFProtect

from paco.extensions import db
from paco.models import (
    AdherenceRecord,
    AuditEvent,
    Checkin,
    Cohort,
    Conversation,
    Disclaimer,
    DisclaimerAcknowledgment,
    Message,
    ResearchID,
    StaffUser,
)

from .auth import init_auth
from .base import StudyIndexView
from .params import check_admin_params
from .views.checkins import CheckinView
from .views.consent import AcknowledgmentView, DisclaimerView
from .views.conversations import ConversationView, MessageView
from .views.dashboards import DashboardView
from .views.data import AdherenceView, AuditEventView
from .views.imports import ImportView, allow_upload
from .views.participants import CohortView, ResearchIDView
from .views.staff import StaffUserView

SITE_NAME = "PaCo study admin"


def init_admin(app: Flask) -> Admin:
    _configure(app)
    _protect_forms(app)
    app.before_request(check_admin_params)
    init_auth(app)
    admin = Admin(app, name=SITE_NAME,
                  theme=Bootstrap4Theme(base_template="paco_admin/base.html", fluid=True),
                  index_view=StudyIndexView(name="Summary", endpoint="admin", url="/admin"),
                  csp_nonce_generator=_csp_nonce)
    participants, consent, chats = "Participants", "Consent", "Chat"
    admin.add_views(
        ResearchIDView(ResearchID, db, name="Research IDs", category=participants,
                       endpoint="admin_research_ids", url="research-ids"),
        CohortView(Cohort, db, name="Cohorts", category=participants, endpoint="admin_cohorts", url="cohorts"),
        AdherenceView(AdherenceRecord, db, name="Adherence records", category=participants,
                      endpoint="admin_adherence", url="adherence"),
        CheckinView(Checkin, db, name="Check-in history", category=participants,
                    endpoint="admin_checkins", url="checkins"),
        ImportView(name="Import", category=participants, endpoint="admin_import", url="import"),
        DisclaimerView(Disclaimer, db, name="Disclaimer versions", category=consent,
                       endpoint="admin_disclaimers", url="disclaimers"),
        AcknowledgmentView(DisclaimerAcknowledgment, db, name="Acknowledgments", category=consent,
                           endpoint="admin_acknowledgments", url="acknowledgments"),
        ConversationView(Conversation, db, name="Conversations", category=chats,
                         endpoint="admin_conversations", url="conversations"),
        MessageView(Message, db, name="Messages", category=chats, endpoint="admin_messages", url="messages"),
        StaffUserView(StaffUser, db, name="Staff accounts", endpoint="admin_staff", url="staff"),
        AuditEventView(AuditEvent, db, name="Audit log", endpoint="admin_audit", url="audit"),
        DashboardView(name="Dashboards", endpoint="admin_dashboards", url="dashboards",
                      static_folder=os.path.join(os.path.dirname(__file__), "static")),
    )
    return admin


def _csp_nonce() -> str:
    """One nonce per response: Flask-Admin's own inline scripts carry it, nothing else runs inline."""
    if "admin_csp_nonce" not in g:
        g.admin_csp_nonce = secrets.token_urlsafe(16)
    return g.admin_csp_nonce


def admin_content_security_policy(nonce: str) -> str:
    # No third-party origin: the site's scripts, styles and fonts (plotly.js included) are its own.
    # Inline style attributes stay allowed (Bootstrap widgets set them); inline script does not.
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _configure(app: Flask) -> None:
    # The staff session lives in Flask's signed cookie: never readable by scripts, not sent on
    # cross-site POSTs, and only over HTTPS when the deployment says so.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("PACO_COOKIE_SECURE"))

    @app.after_request
    def _admin_headers(response):
        if request.path.startswith("/admin") and not (request.endpoint or "").endswith(".static"):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("Content-Security-Policy", admin_content_security_policy(_csp_nonce()))
        return response


def _protect_forms(app: Flask) -> None:
    """CSRF tokens on every state-changing request, except the JSON API under /api/.

    The API authenticates with bearer tokens (and a double-submit cookie for the web app), so
    it is exempt by path: a blueprint added under /api/ later needs no registration here.
    """
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)
    app.before_request(allow_upload)  # the Import page's larger limit, before the check reads the form
    methods = set(app.config.get("WTF_CSRF_METHODS") or {"POST", "PUT", "PATCH", "DELETE"})

    @app.before_request
    def _check_csrf():
        if request.method in methods and not request.path.startswith("/api/"):
            csrf.protect()
