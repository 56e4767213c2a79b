"""Swagger UI renders in a real browser under our Content-Security-Policy, from local assets
only: headless Debian Chromium driven by Playwright against the live server."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# Collects what the page's Content-Security-Policy blocked, before any of its scripts run.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_swagger_ui_works_under_the_content_security_policy(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10000)
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    try:
        page.goto(f"{live_server.url}/api/v1/docs/")

        page.wait_for_selector(".swagger-ui .info .title")
        page.wait_for_selector(".opblock-summary-path")
        title = page.inner_text(".swagger-ui .info .title")
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        violations = page.evaluate("window.__cspViolations")
    finally:
        context.close()

    assert title.startswith("Fabrknt Suite API")
    assert "/api/v1/auth/nonce" in [p.replace("\u200b", "") for p in paths]
    assert violations == []
    assert errors == []
    assert [url for url in requested if not url.startswith(live_server.url)] == []
