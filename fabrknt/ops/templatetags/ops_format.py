"""How the operations page writes its figures; static/ops/ops.js writes them the same way
when a live update arrives (its `figure` and `duration`)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """A duration the way an operator reads it: 350 ms, 42 s, 17 min, 2 h 5 min."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 120:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@register.filter
def figure(value: float | None, unit: str) -> str:
    """An alarm's value or threshold in its unit (fabrknt.ops.alarms): a ratio as a
    percentage, seconds as a duration, a count as a whole number."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f} %"
    if unit == "seconds":
        return duration(value)
    return f"{value:.0f}"


@register.filter
def milliseconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"
