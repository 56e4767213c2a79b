from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from trace.models import Click, FlagStatus, WalletFlag
from trace.services.bots import (
    IP_CLICKS_PER_MINUTE,
    bots_detect,
    clicks_detect,
    wallet_flag_review,
    wallets_detect,
)
from trace.tests.factories import (
    CampaignFactory,
    ClickFactory,
    ContractInteractionFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
NOW = timezone.now().replace(microsecond=0)
# A moment on a 10-second boundary, so lockstep windows are where the test puts them.
T0 = (NOW - dt.timedelta(days=5)).replace(second=0)


def addr(n: int) -> str:
    return f"0x{n:040x}"


def transfer(project, source, target, when, wallet=None):
    return ContractInteractionFactory(
        project=project,
        wallet_address=wallet or source,
        from_address=source,
        to_address=target,
        occurred_at=when,
    )


def act(project, wallet, when):
    return ContractInteractionFactory(project=project, wallet_address=wallet, occurred_at=when)


def flags(project, reason=None) -> dict[str, WalletFlag]:
    queryset = WalletFlag.objects.filter(project=project)
    if reason:
        queryset = queryset.filter(reason=reason)
    return {flag.wallet_address: flag for flag in queryset}


# --- clicks ---------------------------------------------------------------------------


def test_click_user_agents_are_marked_and_browsers_left_alone():
    campaign = CampaignFactory()
    curl = ClickFactory(campaign=campaign, user_agent="curl/8.5.0", ip_address="203.0.113.0")
    preview = ClickFactory(campaign=campaign, user_agent="facebookexternalhit/1.1")
    empty = ClickFactory(campaign=campaign, user_agent="")
    browser = ClickFactory(campaign=campaign, user_agent=BROWSER)
    old = ClickFactory(
        campaign=campaign, user_agent="curl/8.5.0", occurred_at=NOW - dt.timedelta(days=1)
    )
    head = ClickFactory(
        campaign=campaign, user_agent="curl/8.5.0", is_bot=True, bot_reason="head_request"
    )

    counts = clicks_detect()

    assert counts == {"click_user_agent": 3, "click_datacenter": 0, "click_ip_rate": 0}
    result = {c.pk: (c.is_bot, c.bot_reason) for c in Click.objects.all()}
    assert result == {
        curl.pk: (True, "user_agent:curl"),
        preview.pk: (True, "user_agent:facebookexternalhit"),
        empty.pk: (True, "empty_user_agent"),
        browser.pk: (False, ""),
        old.pk: (False, ""),  # outside the look-back
        head.pk: (True, "head_request"),  # an earlier reason is kept
    }


def test_datacenter_ips_are_marked():
    cloud = ClickFactory(user_agent=BROWSER, ip_address="167.99.12.0")  # DigitalOcean
    cloud_v6 = ClickFactory(user_agent=BROWSER, ip_address="2a01:4f8:1::")  # Hetzner
    home = ClickFactory(user_agent=BROWSER, ip_address="203.0.113.0")
    garbage = ClickFactory(user_agent=BROWSER, ip_address="not-an-ip")

    assert clicks_detect()["click_datacenter"] == 2
    assert set(Click.objects.filter(is_bot=True).values_list("pk", "bot_reason")) == {
        (cloud.pk, "datacenter"),
        (cloud_v6.pk, "datacenter"),
    }
    assert not Click.objects.filter(pk__in=[home.pk, garbage.pk], is_bot=True).exists()


def test_ip_rate_marks_the_busy_minute_only():
    campaign = CampaignFactory()
    minute = (NOW - dt.timedelta(minutes=30)).replace(second=0)

    def burst(ip: str, count: int, start: dt.datetime) -> None:
        Click.objects.bulk_create(
            Click(
                click_id=f"{ip}-{start.minute}-{n}",
                organization=campaign.organization,
                campaign=campaign,
                occurred_at=start + dt.timedelta(milliseconds=900 * n),
                ip_address=ip,
                user_agent=BROWSER,
            )
            for n in range(count)
        )

    burst("198.51.100.0", IP_CLICKS_PER_MINUTE + 1, minute)
    burst("192.0.2.0", IP_CLICKS_PER_MINUTE, minute)  # at the limit, not over it
    burst("198.51.100.0", 5, minute + dt.timedelta(minutes=5))  # the same IP, calm later

    assert clicks_detect()["click_ip_rate"] == IP_CLICKS_PER_MINUTE + 1
    marked = Click.objects.filter(is_bot=True)
    assert marked.count() == IP_CLICKS_PER_MINUTE + 1
    assert set(marked.values_list("ip_address", "bot_reason")) == {("198.51.100.0", "ip_rate")}


def test_click_detection_can_be_limited_to_one_project():
    mine = ClickFactory(user_agent="curl/8.5.0")
    other = ClickFactory(user_agent="curl/8.5.0")
    clicks_detect(project_id=mine.campaign.project_id)
    assert Click.objects.get(pk=mine.pk).is_bot is True
    assert Click.objects.get(pk=other.pk).is_bot is False


# --- wallets --------------------------------------------------------------------------


def test_common_funder_flags_wallets_funded_by_one_source():
    project = ProjectFactory(treasury_addresses=[addr(0xAAA)])
    for n in range(5):
        transfer(project, addr(0xF), addr(100 + n), T0 + dt.timedelta(hours=n))
    # (minutes apart from the others, or the three senders would be moving in lockstep)
    for n in range(4):  # one short of the threshold
        transfer(project, addr(0xE), addr(200 + n), T0 + dt.timedelta(hours=n, minutes=20))
    for n in range(6):  # the project's treasury paying users is no sybil sign
        transfer(project, addr(0xAAA), addr(300 + n), T0 + dt.timedelta(hours=n, minutes=40))
    # A later transfer does not change who funded 200 first.
    transfer(project, addr(0xF), addr(200), T0 + dt.timedelta(days=1))

    counts = wallets_detect(project=project)

    found = flags(project)
    assert set(found) == {addr(100 + n) for n in range(5)}
    assert counts == {"wallet_common_funder": 5}
    flag = found[addr(100)]
    assert (flag.reason, flag.score, flag.status) == ("common_funder", 0.6, "suspected")
    assert flag.evidence["funder"] == addr(0xF)
    assert flag.evidence["wallets_funded"] == 5


def test_lockstep_flags_a_group_that_moves_together_repeatedly():
    project = ProjectFactory()
    ring = [addr(1), addr(2), addr(3)]
    for day in range(3):
        moment = T0 + dt.timedelta(days=day, hours=day)
        for offset, wallet in enumerate(ring):
            act(project, wallet, moment + dt.timedelta(seconds=offset * 3))
    # Joins the ring twice: not often enough.
    act(project, addr(4), T0 + dt.timedelta(seconds=1))
    act(project, addr(4), T0 + dt.timedelta(days=1, hours=1, seconds=1))
    # A pair that always moves together is not a group.
    for day in range(4):
        act(project, addr(5), T0 + dt.timedelta(days=day, hours=12))
        act(project, addr(6), T0 + dt.timedelta(days=day, hours=12, seconds=2))
        act(project, addr(7), T0 + dt.timedelta(days=day, hours=12, seconds=4, minutes=day))

    wallets_detect(project=project)

    found = flags(project, "lockstep")
    assert set(found) == set(ring)
    assert found[addr(1)].evidence["shared_windows"] == 3
    assert found[addr(1)].evidence["group_size"] == 3
    assert found[addr(1)].score == 0.5


def test_fresh_wallet_acting_right_after_funding():
    project = ProjectFactory()
    transfer(project, addr(0xF1), addr(10), T0)
    transfer(project, addr(10), addr(0xC1), T0 + dt.timedelta(minutes=10))  # fresh
    transfer(project, addr(0xF2), addr(11), T0)
    transfer(project, addr(11), addr(0xC2), T0 + dt.timedelta(hours=2))  # waited
    act(project, addr(12), T0 - dt.timedelta(days=2))  # had history before
    transfer(project, addr(0xF3), addr(12), T0)
    transfer(project, addr(12), addr(0xC3), T0 + dt.timedelta(minutes=5))

    wallets_detect(project=project)

    found = flags(project, "fresh_wallet")
    assert set(found) == {addr(10)}
    assert found[addr(10)].score == 0.3
    assert found[addr(10)].evidence["seconds_after_funding"] == 600


def test_star_pattern_flags_a_collector_and_its_spokes():
    project = ProjectFactory()
    for n in range(10):
        transfer(project, addr(500 + n), addr(0xC0), T0 + dt.timedelta(hours=n))
    for n in range(9):  # one short
        transfer(project, addr(600 + n), addr(0xC1), T0 + dt.timedelta(hours=n))

    wallets_detect(project=project)

    found = flags(project, "star_pattern")
    assert set(found) == {addr(0xC0), *(addr(500 + n) for n in range(10))}
    assert found[addr(0xC0)].evidence["role"] == "hub"
    assert found[addr(0xC0)].evidence["direction"] == "in"
    assert found[addr(500)].evidence["role"] == "spoke"
    assert found[addr(500)].score == 0.5


def test_transfer_chain_of_three_hops_is_flagged_two_is_not():
    project = ProjectFactory()
    chain = [addr(700 + n) for n in range(4)]
    for n in range(3):
        transfer(project, chain[n], chain[n + 1], T0 + dt.timedelta(days=n))
    short = [addr(800 + n) for n in range(3)]
    for n in range(2):
        transfer(project, short[n], short[n + 1], T0 + dt.timedelta(days=n))
    # A wallet that also sends elsewhere breaks the chain there.
    branch = [addr(900 + n) for n in range(4)]
    for n in range(3):
        transfer(project, branch[n], branch[n + 1], T0 + dt.timedelta(days=n))
    transfer(project, branch[1], addr(999), T0 + dt.timedelta(days=4))

    wallets_detect(project=project)

    found = flags(project, "transfer_chain")
    assert set(found) == set(chain)
    assert found[chain[0]].evidence == {"hops": 3, "path": chain}
    assert found[chain[0]].score == 0.6


def test_rerun_neither_duplicates_nor_overrides_the_operator():
    project = ProjectFactory()
    for n in range(5):
        transfer(project, addr(0xF), addr(100 + n), T0 + dt.timedelta(hours=n))
    wallets_detect(project=project)
    operator = UserFactory()
    confirmed = WalletFlag.objects.get(project=project, wallet_address=addr(100))
    cleared = WalletFlag.objects.get(project=project, wallet_address=addr(101))
    assert wallet_flag_review(flag_id=confirmed.pk, status="confirmed", reviewer=operator)
    assert wallet_flag_review(flag_id=cleared.pk, status="cleared", reviewer=operator)
    # A sixth wallet raises every score.
    transfer(project, addr(0xF), addr(105), T0 + dt.timedelta(hours=6))

    wallets_detect(project=project)
    wallets_detect(project=project)

    assert WalletFlag.objects.filter(project=project).count() == 6
    confirmed.refresh_from_db()
    cleared.refresh_from_db()
    assert (confirmed.status, confirmed.reviewed_by, confirmed.score) == (
        "confirmed",
        operator,
        0.65,
    )
    assert (cleared.status, cleared.reviewed_by) == ("cleared", operator)
    assert confirmed.evidence["wallets_funded"] == 6


def test_wallet_flag_review_is_a_conditional_update():
    flag = WalletFlag.objects.create(
        project=ProjectFactory(), wallet_address=addr(1), reason="lockstep", score=0.5
    )
    operator = UserFactory()

    assert wallet_flag_review(flag_id=flag.pk, status="confirmed", reviewer=operator) is True
    assert wallet_flag_review(flag_id=flag.pk, status="confirmed", reviewer=None) is False
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by) == (FlagStatus.CONFIRMED, operator)
    assert flag.reviewed_at is not None

    with pytest.raises(ValueError):
        wallet_flag_review(flag_id=flag.pk, status="suspected", reviewer=operator)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.CONFIRMED
    assert wallet_flag_review(flag_id=flag.pk + 1000, status="cleared", reviewer=operator) is False


def test_bots_detect_runs_both_sides():
    project = ProjectFactory()
    ClickFactory(campaign=CampaignFactory(project=project), user_agent="python-requests/2.32")
    for n in range(5):
        transfer(project, addr(0xF), addr(100 + n), T0 + dt.timedelta(hours=n))

    counts = bots_detect(project_id=project.id)

    assert counts == {
        "click_user_agent": 1,
        "click_datacenter": 0,
        "click_ip_rate": 0,
        "wallet_common_funder": 5,
    }
