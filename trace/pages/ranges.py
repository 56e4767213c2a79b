"""The date range of a TRACE page (the dashboard, a project, a campaign), from its URL:
`?range=7d|30d|90d` (the last N days, today included) or a custom
`?from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included, UTC days as the metrics).

One parser for the three pages. Dates are parsed by the exports' PeriodForm and checked
by the exports' `export_range` (the API's bounds, EARLIEST_DATE to LATEST_DATE): a bad
range is never an error page, the page shows the default range with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils import timezone

from trace.csv_exports import DateRange, ExportRangeError, export_range
from trace.pages.period_forms import PeriodForm
from trace.services.metrics import EARLIEST_DATE

PRESETS = {"7d": 7, "30d": 30, "90d": 90}
CUSTOM = "custom"
# A page draws one point a day: longer ranges are for the CSV exports.
MAX_PAGE_DAYS = 731


@dataclass(frozen=True)
class PageRange:
    days: DateRange
    today: dt.date
    choice: str  # a key of PRESETS, or CUSTOM
    error: str | None = None

    @property
    def first(self) -> dt.date:
        return self.days.first

    @property
    def last(self) -> dt.date:
        return self.days.last

    @property
    def start(self) -> dt.datetime:
        return self.days.start

    @property
    def end(self) -> dt.datetime:
        """The first moment after the range (exclusive)."""
        return self.days.end

    @property
    def dates(self) -> list[dt.date]:
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=offset) for offset in range(count)]

    @property
    def ends_today(self) -> bool:
        """The last day is today, still being counted: drawn as a partial day."""
        return self.last == self.today

    @property
    def label(self) -> str:
        """'last 30 days' or 'Mar 1, 2026 – Mar 9, 2026'."""
        if self.choice in PRESETS:
            return f"last {PRESETS[self.choice]} days"
        return f"{_day(self.first)} – {_day(self.last)}"

    @property
    def export_query(self) -> str:
        """The range as the export pages take it."""
        return urlencode({"from": self.first.isoformat(), "to": self.last.isoformat()})

    @property
    def earliest(self) -> dt.date:
        return EARLIEST_DATE

    @property
    def choices(self) -> list[dict[str, object]]:
        return [
            {"key": key, "label": f"{days} days", "current": key == self.choice}
            for key, days in PRESETS.items()
        ]

    @classmethod
    def last_days(
        cls, count: int, *, today: dt.date, choice: str, error: str | None = None
    ) -> PageRange:
        first = today - dt.timedelta(days=count - 1)
        return cls(DateRange(first, today), today, choice, error)

    @classmethod
    def from_request(cls, request: HttpRequest, *, default_days: int = 30) -> PageRange:
        today = timezone.localdate()
        default_choice = f"{default_days}d"

        def default(error: str) -> PageRange:
            return cls.last_days(default_days, today=today, choice=default_choice, error=error)

        if "from" in request.GET or "to" in request.GET:
            form = PeriodForm(request.GET, latest=today)
            if not form.is_valid():
                reasons = "; ".join(
                    f"{form.fields[name].label}: {' '.join(str(message) for message in messages)}"
                    for name, messages in form.errors.items()
                )
                return default(f"That range cannot be shown ({reasons}).")
            date_from, date_to = form.period
            try:
                days = export_range(date_from=date_from, date_to=date_to)
            except ExportRangeError as refusal:
                return default(f"That range cannot be shown: {refusal.detail}")
            if (days.last - days.first).days + 1 > MAX_PAGE_DAYS:
                return default(
                    f"A page shows at most {MAX_PAGE_DAYS} days; export the CSV for longer ranges."
                )
            return cls(days, today, CUSTOM)
        chosen = request.GET.get("range", default_choice)
        if chosen not in PRESETS:
            return default(f"Unknown range “{chosen}”: choose 7, 30 or 90 days, or a custom range.")
        return cls.last_days(PRESETS[chosen], today=today, choice=chosen)


def _day(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"
