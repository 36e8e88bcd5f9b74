"""The participant web app: one page, plain JavaScript modules and CSS, all served locally."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, request

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")

_JS_DIR = Path(__file__).with_name("static") / "js"
# Every module is preloaded by the page, so a phone fetches them in parallel rather than
# discovering them import by import.
MODULES = sorted(p.relative_to(_JS_DIR).as_posix() for p in _JS_DIR.rglob("*.js"))


def content_security_policy(host: str) -> str:
    # The socket is named by host rather than with a bare ws:/wss: so no other host can be reached.
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "media-src 'self' blob: data:",
        f"connect-src 'self' ws://{host} wss://{host}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


@bp.after_request
def _page_headers(response):
    response.headers.setdefault("Content-Security-Policy", content_security_policy(request.host))
    response.headers.setdefault("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
    if request.endpoint == "web.index":
        # The page itself is tiny; never show a stale copy after signing out or an update.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index():
    return render_template("web/index.html", modules=MODULES, max_chars=current_app.config["PACO_MAX_MESSAGE_CHARS"])
