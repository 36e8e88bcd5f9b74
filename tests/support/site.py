"""What wsgi.py adds to the core app (admin site, CLI), without wsgi's gevent monkey-patch."""
from flask import Flask

from scripts import register_cli


def compose_site(app: Flask) -> Flask:
    register_cli(app)
    return app
