"""TRACE's per-row pieces written in Python, where an `{% include %}` a row cost a
template lookup, a context push and a render: `{{ roi|roi_badge }}`,
`{{ value|explorer_link:url }}` and `{{ address|address_link:chain }}`."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from trace.templatetags.chains import address_url

register = template.Library()


@register.filter
def roi_badge(roi: Decimal | float | None) -> SafeString:
    """A ROI as a signed percentage (rounded as `{% widthratio roi 1 100 %}` rounds), or
    a dash when the campaign has no budget."""
    if roi is None:
        return format_html('<span class="muted" title="No budget">—</span>')
    percent = round(float(roi) / 1.0 * 100)
    if roi < 0:
        return format_html('<span class="roi roi--down">{}%</span>', percent)
    return format_html('<span class="roi roi--up">+{}%</span>', percent)


@register.filter
def explorer_link(value: str, url: str) -> SafeString:
    """An address or a transaction hash, linked to the chain's explorer when there is a
    `url` (a new tab, said to screen readers)."""
    if url:
        return format_html(
            '<a class="mono" href="{}" rel="noopener noreferrer" target="_blank">'
            '<code>{}</code><span class="visually-hidden"> (opens the block explorer)</span></a>',
            url,
            value,
        )
    return format_html("<code>{}</code>", value)


@register.filter
def address_link(address: str, chain: str) -> SafeString:
    """explorer_link of an address on `chain`."""
    return explorer_link(address, address_url(address, chain))
