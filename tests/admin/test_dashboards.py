"""The dashboards as staff use them: pages, filters kept in links, small cells, roles, exports, transcripts."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd
import pytest

from tests.analytics import fixture

from .conftest import audit_events

NAMES = ["overview", "engagement", "adherence", "disclaimers", "conversations", "latency"]
A, D, I = "admin", "data_manager", "investigator"  # noqa: E741


@pytest.fixture
def jan(app):
    return fixture.load()


def query(**extra) -> str:
    args = {**fixture.RANGE, **extra}
    return "?" + "&".join(f"{k}={v}" for k, v in args.items())


@pytest.mark.parametrize("role", [A, D, I])
def test_every_dashboard_opens_for_every_staff_role(jan, signed_in, role):
    site = signed_in(role)
    index = site.get("/admin/").get_data(as_text=True)
    for name in NAMES:
        assert f'href="/admin/dashboards/{name}/"' in index
        response = site.get(f"/admin/dashboards/{name}/" + query())
        assert response.status_code == 200, name
        page = response.get_data(as_text=True)
        figures = re.findall(r'<script type="application/json" id="(fig-[a-z_]+)">', page)
        assert figures, name
        for figure in figures:  # each figure's data drawn by the static script, and a table for it
            assert f'data-figure="{figure}"' in page
        assert page.count("<details") == len(figures)
        # No inline script beyond Flask-Admin's own (which carry the response's nonce).
        for tag in re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page):
            assert "nonce=" in tag, tag


def test_signed_out_visitors_and_unknown_dashboards(jan, client, signed_in):
    response = client.get("/admin/dashboards/overview/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login/")
    assert signed_in(I).get("/admin/dashboards/nonsense/").status_code == 404


def test_filters_stay_in_the_links_and_are_applied(jan, signed_in):
    site = signed_in(I)
    cohort_b = jan["Arm B"]
    page = site.get(f"/admin/dashboards/overview/{query(cohort=cohort_b)}").get_data(as_text=True)
    tab = re.search(r'href="(/admin/dashboards/engagement/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert f"cohort={cohort_b}" in tab and "from=2026-01-01" in tab and "to=2026-01-31" in tab
    assert f'value="{cohort_b}"\n        id="cohort-{cohort_b}" checked' in page
    table = re.search(r'<table[^>]*data-panel="summary".*?</table>', page, re.S).group(0)
    assert "Arm B" in table and "Arm A" not in table


def test_small_cells_read_less_than_five(jan, signed_in):
    site = signed_in(I)
    page = site.get("/admin/dashboards/overview/" + query()).get_data(as_text=True)
    table = re.search(r'<table[^>]*data-panel="summary".*?</table>', page, re.S).group(0)
    arm_a = re.search(r"<tr>\s*<td>Arm A</td>(.*?)</tr>", table, re.S).group(1)
    # Arm A: 3 enrolled, 1 and 2 active, 1 acknowledged, 4 questions, 2 + 2, 1 escalation: all below 5.
    assert re.findall(r"<td>([^<]*)</td>", arm_a)[:8] == ["&lt;5"] * 8
    # In the chart's data, a suppressed cell is a gap (null), with "<5" to hover.
    figure = json.loads(re.search(r'<script type="application/json" id="fig-summary">(.*?)</script>',
                                  page, re.S).group(1))
    first = figure["data"][0]
    assert first["y"][0] is None and first["customdata"][0] == "<5"
    tables = zipfile.ZipFile(io.BytesIO(site.get("/admin/dashboards/overview/tables.zip" + query()).data))
    summary = pd.read_csv(tables.open("summary.csv"), dtype=str).set_index("cohort")
    assert summary.loc["Arm A", "questions"] == "<5" and summary.loc["All cohorts", "questions"] == "5"
    assert audit_events("export")[-1].target == "dashboard:overview"


def test_plotly_is_served_by_the_app(jan, signed_in):
    response = signed_in(I).get("/admin/dashboards/plotly.min.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert b"plotly" in response.data[:2000].lower() and "max-age" in response.headers["Cache-Control"]


def test_transcript_reads_oldest_first_with_times(jan, signed_in):
    site = signed_in(I)
    page = site.get("/admin/dashboards/conversations/" + query()).get_data(as_text=True)
    assert 'href="/admin/dashboards/conversations/transcript/cA1a/"' in page
    transcript = site.get("/admin/dashboards/conversations/transcript/cA1a/").get_data(as_text=True)
    texts = re.findall(r'<div class="bubble-text">(.*?)</div>', transcript)
    assert texts == ["How far should I walk?", "ok", "Is muscle pain a side effect?", "ok"]
    assert "2026-01-02 09:05:00 UTC" in transcript and "spoken" in transcript
    assert site.get("/admin/dashboards/conversations/transcript/nope/").status_code == 404


def test_transcript_says_when_the_classifier_caught_what_the_rules_missed(jan, signed_in):
    from paco.extensions import db
    from paco.models import Message

    site = signed_in(I)
    flagged = site.get("/admin/dashboards/conversations/transcript/cA1b/").get_data(as_text=True)
    assert "emergency.chest_pain" in flagged and "caught by the classifier" not in flagged
    question = db.session.query(Message).filter_by(conversation_id="cA1b", role="user").one()
    question.safety_rule, question.safety_layer = "classifier.emergency", "classifier"
    db.session.commit()
    flagged = site.get("/admin/dashboards/conversations/transcript/cA1b/").get_data(as_text=True)
    assert "classifier.emergency" in flagged and "missed by the rules, caught by the classifier" in flagged


def _export(site, dashboard, dataset, fmt, **extra):
    token = site.token(f"/admin/dashboards/{dashboard}/")
    return site.client.post(f"/admin/dashboards/{dashboard}/export" + query(**extra),
                            data={"dataset": dataset, "format": fmt, "csrf_token": token})


def test_the_export_button_downloads_a_bundle_with_the_page_filters(jan, signed_in):
    site = signed_in(I)
    response = _export(site, "engagement", "messages", "csv", cohort=jan["Arm B"])
    assert response.status_code == 200 and response.mimetype == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(bundle.namelist()) == ["dictionary.csv", "manifest.json", "messages.csv"]
    rows = pd.read_csv(bundle.open("messages.csv"))
    assert set(rows["research_id"]) == {"B1"} and len(rows) == 2
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["filters"]["cohorts"] == [jan["Arm B"]] and manifest["files"][0]["rows"] == 2
    event = audit_events("export")[-1]
    assert event.actor == "investigator@study.example.org" and event.target == "dataset:messages"
    assert json.loads(event.detail)["rows"] == 2


@pytest.mark.parametrize("role, allowed", [(A, True), (D, False), (I, False)])
def test_the_audit_dataset_is_for_admins_only(jan, signed_in, role, allowed):
    site = signed_in(role)
    page = site.get("/admin/dashboards/overview/").get_data(as_text=True)
    assert ('<option value="audit"' in page) == allowed
    response = _export(site, "overview", "audit", "csv")
    assert response.status_code == (200 if allowed else 403)


def test_a_dashboard_view_rolls_up_what_is_new(jan, signed_in):
    """Each view rolls a step of what is new into the rollups (paco.services.rollups)."""
    import sqlalchemy as sa

    from paco.extensions import db
    from paco.models import Message, rollup_state

    def watermark():
        return db.session.execute(sa.select(rollup_state.c.watermark).where(rollup_state.c.name == "questions")
                                  ).scalar()
    assert not watermark()
    assert signed_in(I).get("/admin/dashboards/engagement/" + query()).status_code == 200
    assert watermark() == db.session.execute(sa.select(sa.func.max(Message.id))).scalar()


def test_a_dashboard_build_leaves_the_workers_other_greenlets_running(jan, signed_in, monkeypatch):
    """A build holds the thread it runs on (SQLite's C calls, pandas): it runs in gevent's thread
    pool, so the chat sockets this worker also serves keep being served meanwhile."""
    import time

    import gevent
    from gevent import monkey

    from admin.views import dashboards as view

    blocking_sleep = monkey.get_original("time", "sleep")
    built = view.build

    def slow_build(*args):
        blocking_sleep(1.0)  # what a big study's build does to its thread
        return built(*args)

    monkeypatch.setattr(view, "build", slow_build)
    ticks = []

    def tick():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.01)

    site = signed_in(I)
    site.get("/admin/dashboards/overview/" + query())  # the page's first-time work: templates, pools
    ticker = gevent.spawn(tick)
    try:
        assert site.get("/admin/dashboards/overview/" + query()).status_code == 200
    finally:
        ticker.kill()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    # The page's own work (sign-in check, template) runs on the loop and may take a few tenths on
    # a busy machine; the build's second never does.
    assert len(ticks) > 50 and max(gaps) < 0.5, f"the loop stalled for {max(gaps):.2f} s"
