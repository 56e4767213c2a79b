"""What the browser tests check on every page: axe-core's serious and critical WCAG 2.1
A/AA violations (axe vendored under static/vendor/axe-core), horizontal overflow on a
phone-sized viewport, and a screenshot for review under test-output/; and how they move
with the keyboard alone (Tab to an element, its focus ring drawn) as a signed-in user."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OUTPUT = Path(settings.BASE_DIR) / "test-output"
PHONE = {"width": 390, "height": 844}
MAX_TABS = 60


def axe_violations(page: Page) -> list[str]:
    """The serious and critical axe-core violations on the page, as `rule: selector`."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    violations = page.evaluate(
        """async (tags) => {
          // Violations only: axe then skips the detail of what passed (a third of its time).
          const result = await axe.run(document, {
            runOnly: { type: "tag", values: tags },
            resultTypes: ["violations"],
          });
          return result.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", "));
        }""",
        AXE_TAGS,
    )
    return list(violations)


def horizontal_overflow(page: Page) -> list[str]:
    """The innermost elements that reach past a phone's viewport, as `tag.class (px)`, or
    the page itself when none is to blame; empty when the page has no sideways scroll."""
    return list(
        page.evaluate(
            """() => {
              const width = document.documentElement.clientWidth;
              if (document.documentElement.scrollWidth <= width) return [];
              const over = [...document.body.querySelectorAll("*")].filter((el) => {
                const box = el.getBoundingClientRect();
                if (box.right <= width + 0.5) return false;
                for (let up = el.parentElement; up; up = up.parentElement) {
                  const scroll = getComputedStyle(up).overflowX;
                  if (scroll === "auto" || scroll === "scroll" || scroll === "hidden") return false;
                }
                return true;
              });
              const innermost = over.filter((el) => !over.some((o) => o !== el && el.contains(o)));
              const name = (el) => el.tagName.toLowerCase()
                + (el.className ? "." + String(el.className).split(" ").join(".") : "");
              const found = innermost.slice(0, 5).map((el) =>
                name(el) + " (" + Math.round(el.getBoundingClientRect().right - width) + "px)");
              if (found.length) return found;
              // Else content spilling out of its box (an unbreakable string), or an absolutely
              // placed element escaping a scroll box's clipping: name the innermost spiller.
              const spilling = [...document.body.querySelectorAll("*")].filter((el) =>
                el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
                && getComputedStyle(el).overflowX === "visible");
              const inner = spilling.filter(
                (el) => !spilling.some((o) => o !== el && el.contains(o)));
              const page = "the page (" + (document.documentElement.scrollWidth - width) + "px)";
              return [page, ...inner.slice(0, 3).map((el) =>
                name(el) + " spills " + (el.scrollWidth - el.clientWidth) + "px")];
            }"""
        )
    )


def screenshot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def signed_in_context(browser: Browser, live_server, user, **options) -> BrowserContext:
    """A new browser context whose session cookie signs `user` in (Django's test client
    opens the session; signing in through the page is the sign-in tests' business)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(**options)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def tab_to(page: Page, predicate: str, *, max_tabs: int = MAX_TABS) -> None:
    """Press Tab until the focused element matches `predicate` (a JS expression over `el`),
    checking that each element Tab lands on draws a focus ring (its computed outline or box
    shadow, as focused), an outline of ours at 3:1 against what is behind it; fails if the
    element is never reached."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            r"""() => {
              const el = document.activeElement;
              if (!el || el === document.body) {
                return { reached: false, ring: true, name: "body", contrast: null };
              }
              const style = getComputedStyle(el);
              // A native date or time field gives focus to its inner segment, which Chromium
              // highlights itself; the field then matches no :focus (so no rule of ours).
              const segmented = /^(date|datetime-local|month|time|week)$/.test(el.type)
                && !el.matches(":focus");
              const ring = segmented
                || (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
                || style.boxShadow !== "none";
              const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                + " " + (el.textContent || el.name || "").trim().slice(0, 40);
              // An outline of our own is drawn on what is behind the element: its colour
              // must stand 3:1 against that (WCAG 1.4.11). Chromium's "auto" ring is two-tone.
              let contrast = null;
              if (ring && !segmented && style.outlineStyle === "solid") {
                const rgb = (color) => color.match(/[\d.]+/g).map(Number);
                const luminance = ([r, g, b]) => [r, g, b]
                  .map((c) => c / 255)
                  .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
                  .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
                let behind = el.parentElement;
                while (behind && rgb(getComputedStyle(behind).backgroundColor)[3] === 0) {
                  behind = behind.parentElement;
                }
                const back = behind
                  ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)";
                const [light, dark] = [luminance(rgb(style.outlineColor)), luminance(rgb(back))]
                  .sort((a, b) => b - a);
                contrast = (light + 0.05) / (dark + 0.05);
              }
              return { reached: !!(%s), ring, name, contrast };
            }"""
            % predicate
        )
        assert focused["ring"], f"no visible focus on {focused['name']}"
        contrast = focused["contrast"]
        assert contrast is None or contrast >= 3, (
            f"focus ring {contrast:.1f}:1 on {focused['name']}"
        )
        if focused["reached"]:
            return
    raise AssertionError(f"never reached by Tab: {predicate}")
