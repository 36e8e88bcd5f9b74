"""What wsgi.py adds to the core app (admin site, CLI), without wsgi's gevent monkey-patch."""
from flask import Flask

from admin import init_admin
from scripts import register_cli


def compose_site(app: Flask) -> Flask:
    init_admin(app)
    register_cli(app)
    return app
