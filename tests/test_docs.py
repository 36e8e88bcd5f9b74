"""The repository's docs stand alone and keep up with the code: every table and column is in
docs/data-model.md, every error code the participant edges can send is in docs/protocol.md, and
nothing points outside the repository."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from paco.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def _section(text: str, table: str) -> str:
    start = text.index(f"### `{table}`")
    end = text.find("\n### ", start + 1)
    return text[start:end if end != -1 else None]


def test_every_table_and_column_is_documented(app):
    text = (ROOT / "docs" / "data-model.md").read_text()
    missing = []
    for table in db.metadata.sorted_tables:
        if f"### `{table.name}`" not in text:
            missing.append(table.name)
            continue
        section = _section(text, table.name)
        missing += [f"{table.name}.{c.name}" for c in table.columns if f"| `{c.name}` |" not in section]
    assert missing == [], f"add these to docs/data-model.md: {missing}"


def test_every_participant_error_code_is_documented():
    from tests.fuzz.documented import documented_codes

    raised = set()
    for path in list((ROOT / "paco").rglob("*.py")):
        source = path.read_text()
        raised |= set(re.findall(r"(?:InvalidInput|Unauthorized|Forbidden|NotFound|Conflict|TooLarge|RateLimited|"
                                 r"Unavailable|UnsupportedMediaType)\(\s*\"([a-z_]+)\"", source))
        raised |= set(re.findall(r"error(?:_response)?\((?:\d+, )?\"([a-z_]+)\"", source))
    staff_only = {  # admin site and CLI refusals: shown as flash messages or CLI errors, not protocol
        "already_published", "not_editable", "empty_disclaimer", "invalid_staff_account", "staff_exists",
        "weak_password", "research_id_exists", "no_research_ids", "unknown_action", "unknown_cohort",
        "unknown_research_ids", "unknown_research_id", "outdated_draft", "invalid_status", "invalid_measure",
        "invalid_value", "invalid_cohort_settings", "staff_change_refused", "missing_password",
        "invalid_participants", "invalid_days", "synthetic_exists",  # flask demo synth
    }
    # Data managers' refusals and problem codes are documented in their own guide.
    guide = (ROOT / "docs" / "data-managers.md").read_text()
    staff_only |= set(re.findall(r"`([a-z_]+)`", guide.split("## Problem and refusal codes")[1]))
    assert raised - staff_only - documented_codes() == set()


def test_nothing_points_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files", "*.py", "*.md", "Makefile", ".ci/*"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    outside = "../" + "shared"  # spelt in two parts so that this file does not name it
    offenders = [name for name in tracked if outside in (ROOT / name).read_text(errors="ignore")]
    assert offenders == []


def _settings_read() -> set[str]:
    names = set()
    for name in ("paco/config.py", "wsgi.py", "gunicorn.conf.py", "paco/metrics.py"):
        source = (ROOT / name).read_text()
        names |= set(re.findall(r"env_(?:str|int|float|bool|list)\(\"([A-Z][A-Z0-9_]+)\"", source))
        names |= set(re.findall(r"os\.environ(?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\"", source))
        names |= set(re.findall(r"os\.environ\.get\('([A-Z][A-Z0-9_]+)'", source))
    return names


def test_every_setting_is_documented_and_every_documented_setting_exists():
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`(?:, `([A-Z][A-Z0-9_]+)`)?",
                                (ROOT / "docs" / "settings.md").read_text(), flags=re.MULTILINE))
    documented = {name for pair in documented for name in pair if name}
    read = _settings_read()
    assert read - documented == set(), "settings missing from docs/settings.md"
    assert documented - read == set(), "docs/settings.md lists settings the code no longer reads"
