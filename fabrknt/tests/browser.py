"""What the browser tests check on every page: axe-core's serious and critical WCAG 2.1
A/AA violations (axe vendored under static/vendor/axe-core), horizontal overflow on a
phone-sized viewport, and a screenshot for review under test-output/."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from playwright.sync_api import Page

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OUTPUT = Path(settings.BASE_DIR) / "test-output"
PHONE = {"width": 390, "height": 844}


def axe_violations(page: Page) -> list[str]:
    """The serious and critical axe-core violations on the page, as `rule: selector`."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    violations = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
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
