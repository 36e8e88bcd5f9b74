"""Query and form parameters of the admin site, checked before Flask-Admin reads them.

Flask-Admin passes ``page``, ``page_size``, ``sort`` and ``id`` straight into queries: a negative
page, a number too large for the database's integer, ``id=1'`` or a NUL in a search answered 500.
Such requests get a 400 page (or 404 for an ID that names no record) instead.
"""
from __future__ import annotations

import re

from flask import abort, request

from paco.validation import is_digits, text_problem

# Largest value PostgreSQL's and SQLite's integers share that a page count could mean.
_MAX_NUMBER = 10**9
_NUMBERS = ("page", "page_size", "sort")
_ID_RE = re.compile(r"^\d{1,18}$")


def check_admin_params():
    if not request.path.startswith("/admin"):
        return
    for _name, value in list(request.args.items(multi=True)) + list(request.form.items(multi=True)):
        if text_problem(value) or "\ufffd" in value:  # NUL, lone surrogate, or bytes that were not UTF-8
            abort(400, "A parameter contains characters that are not allowed.")
    for name in _NUMBERS:
        value = request.args.get(name)
        if value is not None and not (is_digits(value) and int(value) <= _MAX_NUMBER):
            abort(400, f"The parameter '{name}' must be a whole number from 0 to {_MAX_NUMBER}.")
    record_id = request.args.get("id")
    if record_id is not None and not _ID_RE.match(record_id):
        abort(404)
