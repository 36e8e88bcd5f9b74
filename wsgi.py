"""Composition root: gevent's monkey-patch first, then the app, the admin site and the CLI.

The patch must run before anything imports ssl, socket users, psycopg or the OpenAI client:
imported earlier, they keep blocking calls that stall every other connection (docs/field-notes.md).
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

from admin import init_admin  # noqa: E402
from paco import create_app  # noqa: E402
from paco.chat.runtime import warm_up  # noqa: E402
from scripts import register_cli  # noqa: E402

app = create_app()
init_admin(app)
register_cli(app)

# Serving (gunicorn sets SERVER_SOFTWARE): pay set-up costs before the first participant does.
# CLI commands (`flask db upgrade`) import this module too and should not.
if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
    warm_up(app)
