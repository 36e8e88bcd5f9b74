"""The investigator dashboards in Chromium: every chart drawn by plotly.js under the admin CSP, no error."""
from __future__ import annotations

import pytest

from paco.extensions import db
from paco.services import staff
from paco.services.synth import synthesize

from .visit import DESKTOP

NAMES = ["overview", "engagement", "adherence", "disclaimers", "conversations", "latency"]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def investigator(site):
    with site.app_context():
        synthesize(db.engine, 40, 60, seed=7)
        staff.create_staff("pi@study.example.org", "investigator", PASSWORD, actor="test-setup")
        db.session.remove()
    return "pi@study.example.org"


def test_every_dashboard_draws_its_charts_without_errors(visit, investigator, screenshots):
    page = visit.page
    console = []
    page.on("console", lambda message: console.append((message.text, message.location.get("url")))
            if message.type == "error" else None)
    missing = []
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)
    page.set_viewport_size(DESKTOP)
    page.goto(visit.server.url + "/admin/login/?next=/admin/dashboards/overview/")
    page.fill("#email", investigator)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/dashboards/overview/")
    for name in NAMES:
        if name != "overview":
            page.get_by_role("link", name=name.capitalize(), exact=True).first.click()
            page.wait_for_url(f"**/admin/dashboards/{name}/**")
        figures = page.locator(".dash-figure")
        expected = figures.count()
        assert expected > 0, name
        # Plotly draws each chart as an SVG inside its node (polled from here: the page's CSP allows no eval).
        drawn = page.locator(".dash-figure svg.main-svg")
        visit.until(lambda expected=expected: page.locator(".dash-figure:has(svg.main-svg)").count() == expected, 20,
                    f"{expected} charts on {name}")
        assert drawn.count() >= expected
        # Each chart's data table is one click away.
        page.locator("details summary").first.click()
        assert page.locator("details[open] :is(table, p)").first.is_visible()
        page.screenshot(path=str(screenshots / f"dashboard-{name}.png"), full_page=False)
    assert console == [] and missing == [], (console, missing)
    # The transcript of a conversation: bubbles, and nothing wider than the page.
    page.get_by_role("link", name="Conversations", exact=True).first.click()
    page.locator("a[href*='/transcript/']").first.click()
    page.wait_for_selector(".transcript .bubble")
    assert page.locator(".bubble").count() >= 2
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshots / "dashboard-transcript.png"), full_page=False)
