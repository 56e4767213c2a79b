"""The pages' per-request pieces: the campaign page's click sources in one statement,
URLs reversed once per process, ROI and explorer cells written in Python."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import timezone

from fabrknt.pages.urls import fixed_url, id_url
from trace.selectors import BotReasonRow, BreakdownRow, ClickQuality, campaign_click_sources
from trace.templatetags.trace_pages import address_link, explorer_link, roi_badge, wallet_rows
from trace.tests.factories import ClickFactory


@pytest.mark.django_db
def test_click_sources_in_one_statement_with_limits_and_range(campaign):
    now = timezone.now()
    for n, (referrer, source) in enumerate(
        [("https://a.example/", "x"), ("https://a.example/", "y"), ("https://b.example/", "x")]
    ):
        ClickFactory(
            campaign=campaign,
            referrer=referrer,
            utm_params={"utm_source": source},
            visitor_hash=f"v{n}",
            occurred_at=now,
        )
    ClickFactory(campaign=campaign, is_bot=True, bot_reason="method:HEAD", occurred_at=now)
    ClickFactory(campaign=campaign, during_pause=True, referrer="", occurred_at=now)
    ClickFactory(
        campaign=campaign, referrer="https://old.example/", occurred_at=now - dt.timedelta(days=40)
    )
    ClickFactory(referrer="https://a.example/", occurred_at=now)  # another campaign's
    # A range ending within today includes today.
    window = {"start": now - dt.timedelta(days=7), "end": now + dt.timedelta(hours=1)}

    with CaptureQueriesContext(connection) as queries:
        sources = campaign_click_sources(campaign=campaign, referrer_limit=2, utm_limit=1, **window)

    assert len(queries.captured_queries) == 1
    assert sources.referrers == [BreakdownRow("a.example", 2), BreakdownRow("", 1)]
    assert sources.utm == {"utm_source": [BreakdownRow("x", 2)]}
    assert sources.quality == ClickQuality(
        human=4, bots=1, bot_reasons=[BotReasonRow("method:HEAD", 1)], during_pause=1
    )
    everything = campaign_click_sources(campaign=campaign, referrer_limit=None)
    assert [row.label for row in everything.referrers] == [
        "a.example",
        "",
        "b.example",
        "old.example",
    ]
    assert everything.quality.human == 5


@pytest.mark.django_db
def test_click_sources_of_a_campaign_without_clicks(campaign):
    sources = campaign_click_sources(campaign=campaign)
    assert (sources.referrers, sources.utm) == ([], {})
    assert sources.quality == ClickQuality(0, 0, [], 0)


def test_urls_reversed_once_equal_reverse_under_any_prefix():
    pk = uuid.uuid4()
    try:
        for prefix in ("/", "/suite/"):
            set_script_prefix(prefix)
            assert id_url("trace:campaign", pk) == reverse("trace:campaign", args=[pk])
            assert id_url("trace:project", str(pk)) == reverse("trace:project", args=[pk])
            assert fixed_url("trace:dashboard") == reverse("trace:dashboard")
        assert fixed_url("trace:dashboard") == "/suite/trace/"
    finally:
        set_script_prefix("/")
    with pytest.raises(NoReverseMatch):  # as reverse() with an argument it does not take
        id_url("trace:dashboard", pk)


@pytest.mark.parametrize(
    "roi",
    [None, Decimal("0"), Decimal("0.555"), Decimal("-0.845"), Decimal("12.5"), Decimal("-0.004")],
)
def test_roi_badge_renders_as_the_template_it_replaced(roi):
    replaced = Template(
        '{% if roi is None %}<span class="muted" title="No budget">—</span>'
        '{% elif roi < 0 %}<span class="roi roi--down">{% widthratio roi 1 100 %}%</span>'
        '{% else %}<span class="roi roi--up">+{% widthratio roi 1 100 %}%</span>{% endif %}'
    ).render(Context({"roi": roi}))
    assert roi_badge(roi) == replaced


def test_explorer_links_escape_and_fall_back_to_the_bare_value():
    assert explorer_link("<x>", "") == "<code>&lt;x&gt;</code>"
    link = explorer_link("0xabc", "https://scan.example/a?b=1&c=2")
    assert 'href="https://scan.example/a?b=1&amp;c=2"' in link
    assert '<span class="visually-hidden"> (opens the block explorer)</span>' in link
    assert address_link("0x" + "a" * 40, "no-such-chain") == f"<code>0x{'a' * 40}</code>"


WALLET_ROWS_REPLACED = Template(
    "{% load trace_pages %}{% for row in rows %}"
    '<tr><th scope="row" class="mono">{{ row.wallet_address|address_link:chain }}</th>'
    '<td>{% if row.proven %}<span class="status status--verified">proven</span>'
    '{% else %}<span class="status status--unverified">claimed</span>{% endif %}</td>'
    '<td class="num">{{ row.conversions|floatformat:"g" }}</td>'
    '<td class="num">${{ row.value_usd|floatformat:"2g" }}</td>'
    "<td><time datetime=\"{{ row.last_converted_at|date:'c' }}\">"
    '{{ row.last_converted_at|date:"M j, Y" }}</time></td></tr>'
    "{% if not forloop.last %}\n{% endif %}{% endfor %}"
)


@pytest.mark.parametrize("chain", ["eip155:8453", "no-such-chain", ""])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Adak"])
def test_wallet_rows_render_as_the_template_they_replaced(chain, zone):
    rows = [
        {
            "wallet_address": "0x" + "ab" * 20,
            "proven": True,
            "conversions": 1234567,
            "value_usd": Decimal("1234567.505"),
            "last_converted_at": dt.datetime(2026, 12, 31, 23, 30, 5, 123456, tzinfo=dt.UTC),
        },
        {
            "wallet_address": "<script>",
            "proven": False,
            "conversions": 1,
            "value_usd": Decimal("0"),
            "last_converted_at": dt.datetime(2026, 3, 1, 0, 15, tzinfo=dt.UTC),
        },
    ]
    with timezone.override(zone):
        replaced = WALLET_ROWS_REPLACED.render(Context({"rows": rows, "chain": chain}))
        rendered = wallet_rows(rows, chain)
    assert rendered == replaced
    assert "&lt;script&gt;" in rendered and "<script>" not in rendered
    assert wallet_rows([], chain) == ""
