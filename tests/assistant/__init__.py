"""Tests of PaCo's offline knowledge base and safety rules (no app, no database)."""

from paco.assistant.readability import fk_grade  # noqa: F401  (the grade the tests hold answers to)
