"""Swagger UI renders in a real browser under our Content-Security-Policy, from local assets
only: headless Debian Chromium driven by Playwright against the live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = "/usr/bin/chromium"  # Debian's; `playwright install` would download its own
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Collects what the page's Content-Security-Policy blocked, before any of its scripts run.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop in this thread; Django would then refuse
    # the fixtures' ORM calls as "async-unsafe" although nothing here is async.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()


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
