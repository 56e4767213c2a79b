"""Forms of a period of days, `from` and `to` (both included), as the API's query names
them: a growth certificate's period and an export's range. They parse dates; the rules
of a period are the services' (trace.services.certificates, trace.csv_exports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from fabrknt.pages.forms import ServiceForm
from trace.services.metrics import EARLIEST_DATE

DEFAULT_RANGE_DAYS = 30


def _date_field(label: str, help_text: str, *, latest: dt.date) -> forms.DateField:
    widget = forms.DateInput(
        format="%Y-%m-%d",
        attrs={"type": "date", "min": EARLIEST_DATE.isoformat(), "max": latest.isoformat()},
    )
    return forms.DateField(label=label, help_text=help_text, widget=widget)


class PeriodForm(ServiceForm):
    """`from` and `to` (Python cannot name them as class attributes)."""

    def __init__(self, *args: Any, latest: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = _date_field("From", "The first day (UTC).", latest=latest)
        self.fields["to"] = _date_field("To", "The last day (UTC), included.", latest=latest)

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.cleaned_data["from"], self.cleaned_data["to"]


class CertificatePeriodForm(PeriodForm):
    """A growth certificate's period: by default the service's, the last 30 full days."""

    def __init__(
        self, *args: Any, default: tuple[dt.date, dt.date], today: dt.date, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {"from": default[0], "to": default[1]})
        super().__init__(*args, latest=today, **kwargs)


class ExportRangeForm(PeriodForm):
    """An export's range: by default the last 30 days, today included (as the metrics)."""

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        start = today - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
        kwargs.setdefault("initial", {"from": start, "to": today})
        super().__init__(*args, latest=today, **kwargs)
