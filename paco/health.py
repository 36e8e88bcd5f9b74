"""Liveness (seed-compatible) and readiness (the database answers) probes."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    return jsonify(status="healthy")


@bp.get("/health/ready")
def ready():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the detail goes to the log, not the client
        db.session.rollback()
        return jsonify(status="unavailable", database="error"), 503
    return jsonify(status="ready", database="ok")
