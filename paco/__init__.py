"""PaCo: the participant-facing application (docs/architecture.md)."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .broadcast import init_broadcast
from .extensions import db
from .request_log import configure_logging, init_request_log
from .rest import register_error_handlers
from .security import init_security
from .web_extensions import jwt, limiter, migrate, sock


def _init_audit_chain(app: Flask) -> None:
    from .redis_client import redis_from_config
    from .services import audit
    from .services.audit_checkpoints import Anchors

    key = app.config["PACO_AUDIT_KEY"].encode()
    audit.configure(key, Anchors(key, app.config["PACO_AUDIT_ANCHOR_FILE"], redis_from_config(app.config),
                                 app.config["PACO_REDIS_PREFIX"], app.config["PACO_AUDIT_ANCHOR_SECONDS"]))


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, then ``config`` overrides (tests)."""
    app = Flask(__name__, instance_path=str(config_module.INSTANCE_DIR))
    settings = config_module.from_environment()
    settings.update(config or {})
    app.config.update(settings)
    config_module.check_production(app.config)
    configure_logging(app.config["PACO_LOG_LEVEL"])
    if app.config["PACO_TRUST_PROXY"]:
        hops = app.config["PACO_TRUST_PROXY"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from .auth.tokens import configure_jwt

    configure_jwt(app)
    # Rate-limit counters must be shared when several instances run; Redis when configured.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["PACO_REDIS_PREFIX"])
    # Redis unreachable: count in this worker meanwhile rather than refuse every sign-in.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)

    from . import (
        chat,  # noqa: F401  (declares the socket route before sock.init_app)
        models,  # noqa: F401  (tables must be known to metadata before migrate binds)
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.PROJECT_DIR / "migrations"))
    jwt.init_app(app)
    sock.init_app(app)
    limiter.init_app(app)

    from .adherence import bp as adherence_bp
    from .auth import bp as auth_bp
    from .chat import bp as chat_bp
    from .chat.audio import audio_bp
    from .health import bp as health_bp
    from .metrics import bp as metrics_bp
    from .web import bp as web_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(chat_bp)
    app.register_blueprint(adherence_bp)
    app.register_blueprint(audio_bp)
    app.register_blueprint(web_bp)
    register_error_handlers(app)
    init_security(app)
    _init_audit_chain(app)
    init_broadcast(app)
    init_request_log(app)
    return app
