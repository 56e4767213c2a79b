"""TRACE demo data: two projects, four campaigns and 90 days of traffic and chain activity.

Everything is drawn from random generators seeded by fixed strings, so every machine gets
the same numbers. Re-running creates nothing: projects and campaigns are found by name,
a campaign that has clicks and a project that has interactions are left as they are, and
asset prices and flags are unique in the database. Conversions come from the same
attribution service the chain ingest calls, and metrics from the same rollup the nightly
task runs, so the dashboards show what the real pipeline computes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import base58
from django.db import transaction
from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address

from accounts.models import Organization, User
from trace.models import (
    NATIVE_ASSET,
    Asset,
    AssetPrice,
    Campaign,
    Click,
    ContractInteraction,
    ContractVerification,
    ControlMethod,
    Conversion,
    FlagStatus,
    InteractionSource,
    LandingDomain,
    LinkProof,
    PriceSource,
    Project,
    WalletFlag,
    WalletLink,
)
from trace.services.attribution import attribution_apply_interactions
from trace.services.contract_control import contract_verification_message_issue
from trace.services.domains import landing_url_host
from trace.services.ingest import log_position
from trace.services.metrics import metrics_aggregate
from trace.services.rollups import rollups_rebuild

DEMO_DAYS = 90
CENT = Decimal("0.01")
BASE_CHAIN = "eip155:8453"
SOLANA_CHAIN = "solana:mainnet"
# Base produced block 0 at this time and a block every 2 s since; Solana slots are ~0.4 s.
BASE_GENESIS = dt.datetime.fromtimestamp(1686789347, tz=dt.UTC)
SOLANA_SLOT_ORIGIN = dt.datetime(2020, 3, 16, tzinfo=dt.UTC)

USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
BOT_AGENTS = [
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "user_agent"),
    ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "user_agent"),
    ("Twitterbot/1.0", "user_agent"),
    ("python-requests/2.32.3", "user_agent"),
]
BOT_SHARE = 0.06
# Market prices on the first demo day and their daily volatility.
ASSET_PRICES = {"ETH": (Decimal("3150"), 0.03), "SOL": (Decimal("148"), 0.045), "USDC": None}
# What the demo's events move, by identity: (chain, symbol) -> (address, decimals). The
# registry's seed migration lists these assets; the demo adds them if an operator did not.
DEMO_ASSETS = {
    (BASE_CHAIN, "ETH"): (NATIVE_ASSET, 18),
    (BASE_CHAIN, "USDC"): ("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6),
    (SOLANA_CHAIN, "SOL"): (NATIVE_ASSET, 9),
    (SOLANA_CHAIN, "USDC"): ("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6),
}


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    chain: str
    contracts: tuple[str, ...]  # names, turned into deterministic addresses
    # event type -> (contract index, asset, median amount, weight)
    events: dict[str, tuple[int, str, float, float]]
    organic_joins: tuple[float, float]  # new wallets a day: base + growth * day
    source: str


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    project: str
    target: int  # index into the project's contracts
    landing_url: str
    budget_usd: Decimal
    goal: str
    start_day: int
    # clicks a day t days after start: base + growth * t + peak * exp(-t / decay)
    shape: tuple[float, float, float, float]
    identify_rate: float  # share of human clicks whose wallet then connects
    referrer: str
    utm: dict[str, str]


PROJECTS = [
    ProjectSpec(
        name="Basedrop DEX",
        chain=BASE_CHAIN,
        contracts=("basedrop-router", "basedrop-pool"),
        events={
            "Swap": (0, "ETH", 0.012, 0.72),
            "AddLiquidity": (1, "USDC", 40.0, 0.2),
            "Mint": (0, "ETH", 0.003, 0.08),
        },
        organic_joins=(3.0, 0.12),
        source=InteractionSource.INDEXER,
    ),
    ProjectSpec(
        name="Solstice Lend",
        chain=SOLANA_CHAIN,
        contracts=("solstice-program",),
        events={
            "deposit": (0, "SOL", 0.2, 0.55),
            "borrow": (0, "USDC", 25.0, 0.3),
            "repay": (0, "USDC", 25.0, 0.15),
        },
        organic_joins=(2.0, 0.06),
        source=InteractionSource.HELIUS,
    ),
]

CAMPAIGNS = [
    CampaignSpec(
        name="Farcaster frame: launch week",
        project="Basedrop DEX",
        target=0,
        landing_url="https://basedrop.example/swap",
        budget_usd=Decimal("8000.00"),
        goal="First swaps from Farcaster users",
        start_day=0,
        shape=(6.0, 0.08, 45.0, 7.0),
        identify_rate=0.06,
        referrer="https://warpcast.com/",
        utm={"utm_source": "farcaster", "utm_medium": "frame", "utm_campaign": "launch-week"},
    ),
    CampaignSpec(
        name="KOL thread on X",
        project="Basedrop DEX",
        target=0,
        landing_url="https://basedrop.example/swap",
        budget_usd=Decimal("9000.00"),
        goal="Swaps from a paid thread by three KOLs",
        start_day=30,
        shape=(5.0, 0.05, 80.0, 4.0),
        identify_rate=0.03,
        referrer="https://t.co/",
        utm={"utm_source": "x", "utm_medium": "kol", "utm_campaign": "kol-thread"},
    ),
    CampaignSpec(
        name="Galxe quest: provide liquidity",
        project="Basedrop DEX",
        target=1,
        landing_url="https://basedrop.example/pool",
        budget_usd=Decimal("6000.00"),
        goal="Liquidity providers who stay",
        start_day=45,
        shape=(8.0, 0.3, 10.0, 5.0),
        identify_rate=0.08,
        referrer="https://app.galxe.com/",
        utm={"utm_source": "galxe", "utm_medium": "quest", "utm_campaign": "lp-quest"},
    ),
    CampaignSpec(
        name="Solana Discord AMA",
        project="Solstice Lend",
        target=0,
        landing_url="https://solstice.example/lend",
        budget_usd=Decimal("5000.00"),
        goal="Depositors from the community AMA",
        start_day=20,
        shape=(4.0, 0.06, 30.0, 5.0),
        identify_rate=0.05,
        referrer="https://discord.com/",
        utm={"utm_source": "discord", "utm_medium": "ama", "utm_campaign": "solstice-ama"},
    ),
]

# A small sybil ring on Basedrop: wallets that appear together and trade in lockstep.
SYBIL_RING_SIZE = 8
SYBIL_RING_DAY = 70


@dataclass
class DemoSummary:
    asset_prices: int = 0
    projects: int = 0
    campaigns: int = 0
    clicks: int = 0
    wallet_links: int = 0
    interactions: int = 0
    conversions: int = 0
    wallet_flags: int = 0
    metric_days: int = 0
    landing_domains: int = 0

    @property
    def created(self) -> int:
        """Rows this run added (metric days are recomputed in place, not counted)."""
        return sum(
            getattr(self, name)
            for name in (
                "asset_prices",
                "projects",
                "campaigns",
                "clicks",
                "wallet_links",
                "interactions",
                "conversions",
                "wallet_flags",
                "landing_domains",
            )
        )


@dataclass
class _Wallet:
    address: str
    joined_at: dt.datetime
    propensity: float  # chance of being active on a given day
    lifetime_days: int
    favourite: int | None = None  # contract index a campaign brought it for


@dataclass
class _DemoWindow:
    today: dt.date
    now: dt.datetime
    days: list[dt.date] = field(default_factory=list)

    @classmethod
    def ending(cls, now: dt.datetime) -> _DemoWindow:
        today = now.date()
        days = [today - dt.timedelta(days=offset) for offset in range(DEMO_DAYS - 1, -1, -1)]
        return cls(today=today, now=now, days=days)

    def moment(
        self, rng: random.Random, day: dt.date, *, after: dt.datetime | None = None
    ) -> dt.datetime | None:
        """A random instant on `day` not before `after`; None when it falls in the future,
        so today holds only the part of a day that has passed."""
        day_start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        start = max(day_start, after) if after is not None else day_start
        span = max((day_start + dt.timedelta(days=1) - start).total_seconds(), 0.0)
        moment = start + dt.timedelta(seconds=rng.random() * span)
        return moment if moment <= self.now else None


def trace_demo_seed(
    *,
    organization: Organization,
    reviewer: User | None = None,
    now: dt.datetime | None = None,
) -> DemoSummary:
    """Seed the demo organization's TRACE data; a second run adds nothing."""
    window = _DemoWindow.ending(now or timezone.now())
    summary = DemoSummary()
    with transaction.atomic():
        seeded = Project.objects.filter(organization=organization, interactions__isnull=False)
        if seeded.distinct().count() < len(PROJECTS):
            # Only with new chain data to price: a re-run on a later day adds no prices.
            summary.asset_prices = _asset_prices_seed(window)
        for spec in PROJECTS:
            _project_seed(spec, organization, reviewer, window, summary)
        summary.landing_domains = _landing_domains_seed(organization, window)
        # The clicks and links went in as rows: their campaigns' rollups are recounted.
        rollups_rebuild(
            campaign_ids=Campaign.objects.filter(organization=organization).values_list(
                "pk", flat=True
            )
        )
    return summary


# The demo project whose contracts' control is recorded as proven (the other one stays
# unverified, so the demo shows both), and the key that signs for it as their deployer.
VERIFIED_DEMO_PROJECT = "Basedrop DEX"
DEMO_DEPLOYER_SEED = b"fabrknt-demo:basedrop-deployer"


def trace_demo_control_record(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """The Basedrop DEX contracts recorded as control-verified, each proof a real EIP-191
    signature by a demo deployer key over the verify message. The demo contracts exist on
    no chain, so no check could pass: like the landing domains, the proof is recorded as
    passed, and only here (seed_demo refuses to run in production). Returns the proofs
    created (0 on a re-run)."""
    project = Project.objects.filter(organization=organization, name=VERIFIED_DEMO_PROJECT).first()
    if project is None:
        return 0
    now = now or timezone.now()
    deployer = Account.from_key(hashlib.sha256(DEMO_DEPLOYER_SEED).digest())
    made = 0
    for address in project.contract_addresses:
        if ContractVerification.objects.filter(project=project, contract_address=address).exists():
            continue
        message = contract_verification_message_issue(
            project=project, address=address, domain="localhost", now=now
        ).message
        signature = deployer.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
        ContractVerification.objects.create(
            project=project,
            chain=project.chain,
            contract_address=address,
            method=ControlMethod.DEPLOYER,
            signer=deployer.address,
            message=message,
            signature=signature,
            verified_at=now,
        )
        made += 1
    return made


def trace_demo_projects(*, organization: Organization) -> dict[str, Project]:
    """The demo organization's TRACE demo projects by name (FABRIC's demo lists them)."""
    names = [spec.name for spec in PROJECTS]
    projects = Project.objects.filter(organization=organization, name__in=names)
    return {project.name: project for project in projects}


def _landing_domains_seed(organization: Organization, window: _DemoWindow) -> int:
    """The demo campaigns' landing domains, verified, so their tracking links redirect as
    a real customer's would. `.example` names never resolve (RFC 2606), so no check could
    pass: they are recorded as a passed check, and only here (seed_demo refuses to run in
    production)."""
    made = 0
    hosts = {landing_url_host(spec.landing_url) for spec in CAMPAIGNS}
    for domain in sorted(host for host in hosts if host is not None):  # every one has a host
        _landing_domain, created = LandingDomain.objects.get_or_create(
            organization=organization,
            domain=domain,
            defaults={"verified_at": window.now, "last_checked_at": window.now},
        )
        made += created
    return made


def _project_seed(
    spec: ProjectSpec,
    organization: Organization,
    reviewer: User | None,
    window: _DemoWindow,
    summary: DemoSummary,
) -> None:
    contracts = [_address(spec.chain, _seeded(name)) for name in spec.contracts]
    project, made = Project.objects.get_or_create(
        organization=organization,
        name=spec.name,
        defaults={
            "chain": spec.chain,
            "contract_addresses": contracts,
            "treasury_addresses": [_address(spec.chain, _seeded(f"{spec.name}:treasury"))],
            "last_indexed_block": _block_at(spec.chain, window.now),
        },
    )
    summary.projects += made
    campaigns = [
        (_campaign_ensure(campaign_spec, project, window, summary), campaign_spec)
        for campaign_spec in CAMPAIGNS
        if campaign_spec.project == spec.name
    ]
    if project.interactions.exists():
        return  # seeded before: its traffic, chain data and metrics are in place
    rng = _seeded(spec.name)
    wallets = _organic_wallets(spec, rng, window)
    for campaign, campaign_spec in campaigns:
        wallets += _campaign_traffic_seed(
            campaign, campaign_spec, rng, window, summary, chain=spec.chain
        )
    sybils = _sybil_wallets(spec, rng, window) if spec.chain == BASE_CHAIN else []
    interactions = list(_interactions(project, spec, wallets, rng, window))
    interactions += list(_lockstep_interactions(project, spec, sybils, rng, window))
    ContractInteraction.objects.bulk_create(interactions, batch_size=2000)
    summary.interactions += len(interactions)
    interaction_ids = list(project.interactions.values_list("id", flat=True))
    conversions_before = Conversion.objects.count()
    attribution_apply_interactions(interaction_ids=interaction_ids)
    summary.conversions += Conversion.objects.count() - conversions_before
    summary.wallet_flags += _flags_seed(project, wallets, sybils, reviewer, window)
    summary.metric_days += metrics_aggregate(
        project_id=project.pk, date_from=window.days[0], date_to=window.today
    )


def _campaign_ensure(
    spec: CampaignSpec, project: Project, window: _DemoWindow, summary: DemoSummary
) -> Campaign:
    campaign, made = Campaign.objects.get_or_create(
        organization=project.organization,
        name=spec.name,
        defaults={
            "project": project,
            "landing_url": spec.landing_url,
            "target_contract": project.contract_addresses[spec.target],
            "budget_usd": spec.budget_usd,
            "goal": spec.goal,
        },
    )
    if made:
        # Back-date it so the campaign's age matches its traffic.
        started = dt.datetime.combine(window.days[spec.start_day], dt.time(9), tzinfo=dt.UTC)
        Campaign.objects.filter(pk=campaign.pk).update(created_at=started)
    summary.campaigns += made
    return campaign


def _campaign_traffic_seed(
    campaign: Campaign,
    spec: CampaignSpec,
    rng: random.Random,
    window: _DemoWindow,
    summary: DemoSummary,
    *,
    chain: str,  # the campaign's project's
) -> list[_Wallet]:
    """Clicks for the campaign, and the wallets some of those clicks brought (linked)."""
    if campaign.clicks.exists():
        return []
    clicks = list(_clicks(campaign, spec, rng, window))
    Click.objects.bulk_create(clicks, batch_size=2000)
    summary.clicks += len(clicks)
    saved = dict(campaign.clicks.values_list("click_id", "id"))
    wallets, links = [], []
    for click in clicks:
        if click.is_bot or rng.random() >= spec.identify_rate:
            continue
        identified_at = click.occurred_at + dt.timedelta(minutes=rng.uniform(1, 25))
        if identified_at > window.now:
            continue
        wallet = _Wallet(
            address=_address(chain, rng),
            joined_at=identified_at,
            propensity=min(0.9, rng.betavariate(1.6, 3.5)),
            lifetime_days=int(rng.expovariate(1 / 45)) + 3,
            favourite=spec.target,
        )
        wallets.append(wallet)
        # About 60% of the dapps' users sign the proof (decided by the click id, so the
        # random sequence of the rest of the demo stays as it was).
        proven = int(click.click_id[:2], 16) % 5 < 3
        links.append(
            WalletLink(
                click_id=saved[click.click_id],
                campaign=campaign,
                wallet_address=wallet.address,
                identified_at=identified_at,
                proof=LinkProof.PROVEN if proven else LinkProof.CLAIMED,
                proven_at=identified_at if proven else None,
            )
        )
    WalletLink.objects.bulk_create(links, batch_size=2000)
    summary.wallet_links += len(links)
    return wallets


def _clicks(
    campaign: Campaign, spec: CampaignSpec, rng: random.Random, window: _DemoWindow
) -> Iterator[Click]:
    base, growth, peak, decay = spec.shape
    for index, day in enumerate(window.days[spec.start_day :]):
        weekend = 0.75 if day.weekday() >= 5 else 1.0
        expected = (base + growth * index + peak * math.exp(-index / decay)) * weekend
        count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
        visitors = max(1, round(count * 0.85))
        for _ in range(count):
            occurred_at = window.moment(rng, day)
            if occurred_at is not None:
                yield _click(campaign, spec, rng, occurred_at, rng.randrange(visitors))


def _click(
    campaign: Campaign,
    spec: CampaignSpec,
    rng: random.Random,
    occurred_at: dt.datetime,
    visitor: int,
) -> Click:
    is_bot = rng.random() < BOT_SHARE
    user_agent, bot_reason = rng.choice(BOT_AGENTS) if is_bot else (rng.choice(USER_AGENTS), "")
    visitor_key = f"{campaign.pk}:{occurred_at.date()}:{visitor}".encode()
    return Click(
        click_id=rng.randbytes(16).hex(),
        organization_id=campaign.organization_id,
        campaign=campaign,
        occurred_at=occurred_at,
        ip_address=f"{rng.randrange(11, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.0",
        visitor_hash=hashlib.sha256(visitor_key).hexdigest(),
        user_agent=user_agent,
        referrer=spec.referrer,
        utm_params=spec.utm,
        is_bot=is_bot,
        bot_reason=bot_reason,
    )


def _organic_wallets(spec: ProjectSpec, rng: random.Random, window: _DemoWindow) -> list[_Wallet]:
    base, growth = spec.organic_joins
    wallets = []
    for index, day in enumerate(window.days):
        for _ in range(max(0, round(rng.gauss(base + growth * index, 1.5)))):
            joined_at = window.moment(rng, day)
            # Drawn even for a wallet that joins in the future: the same seed keeps making
            # the same demo.
            address = _address(spec.chain, rng)
            propensity = min(0.9, rng.betavariate(1.2, 4.0))
            lifetime_days = int(rng.expovariate(1 / 35)) + 1
            if joined_at is not None:
                wallets.append(_Wallet(address, joined_at, propensity, lifetime_days))
    return wallets


def _sybil_wallets(spec: ProjectSpec, rng: random.Random, window: _DemoWindow) -> list[_Wallet]:
    day_start = dt.datetime.combine(window.days[SYBIL_RING_DAY], dt.time.min, tzinfo=dt.UTC)
    joined = day_start + dt.timedelta(hours=rng.uniform(1, 22))
    return [
        _Wallet(_address(spec.chain, rng), joined, propensity=1.0, lifetime_days=10)
        for _ in range(SYBIL_RING_SIZE)
    ]


def _interactions(
    project: Project,
    spec: ProjectSpec,
    wallets: list[_Wallet],
    rng: random.Random,
    window: _DemoWindow,
) -> Iterator[ContractInteraction]:
    events = list(spec.events.items())
    weights = [weight for _, (_, _, _, weight) in events]
    prices = _price_table(window)
    for wallet in wallets:
        first = wallet.joined_at.date()
        last = min(first + dt.timedelta(days=wallet.lifetime_days), window.today)
        day = first
        while day <= last:
            # The join day always has the wallet's first transaction: that is why it came.
            if day == first or rng.random() < wallet.propensity * _weekday_factor(day):
                for _ in range(1 + (rng.random() < 0.3)):
                    after = wallet.joined_at if day == first else None
                    occurred_at = window.moment(rng, day, after=after)
                    if occurred_at is not None:
                        yield _interaction(
                            project, spec, wallet, events, weights, prices, rng, occurred_at
                        )
            day += dt.timedelta(days=1)


def _interaction(
    project: Project,
    spec: ProjectSpec,
    wallet: _Wallet,
    events: list[tuple[str, tuple[int, str, float, float]]],
    weights: list[float],
    prices: dict[tuple[str, dt.date], Decimal],
    rng: random.Random,
    occurred_at: dt.datetime,
) -> ContractInteraction:
    event_type, (contract, asset, median, _) = rng.choices(events, weights)[0]
    if wallet.favourite is not None and rng.random() < 0.5:
        # Campaign-brought wallets mostly do what the campaign asked for.
        matching = [item for item in events if item[1][0] == wallet.favourite]
        event_type, (contract, asset, median, _) = rng.choice(matching)
    amount = Decimal(str(round(rng.lognormvariate(math.log(median), 0.9), 6)))
    contract_address = project.contract_addresses[contract]
    transaction_hash = _transaction_hash(spec.chain, rng)
    log_index = rng.randrange(0, 4) if spec.chain.startswith("eip155") else -1
    return ContractInteraction(
        project=project,
        chain=spec.chain,
        transaction_hash=transaction_hash,
        log_index=log_index,
        transfer_position=log_position(log_index) if log_index >= 0 else "transaction",
        block_number=_block_at(spec.chain, occurred_at),
        wallet_address=wallet.address,
        from_address=wallet.address,
        to_address=contract_address,
        contract_address=contract_address,
        event_type=event_type,
        asset=asset,
        asset_address=DEMO_ASSETS[spec.chain, asset][0],
        amount=amount,
        value_usd=(amount * prices[asset, occurred_at.date()]).quantize(CENT, ROUND_HALF_UP),
        occurred_at=occurred_at,
        source=spec.source,
    )


def _lockstep_interactions(
    project: Project,
    spec: ProjectSpec,
    sybils: list[_Wallet],
    rng: random.Random,
    window: _DemoWindow,
) -> Iterator[ContractInteraction]:
    """The ring swaps the same small amount within seconds of each other, day after day."""
    prices = _price_table(window)
    for day in window.days[SYBIL_RING_DAY : SYBIL_RING_DAY + 10]:
        beat = window.moment(rng, day)
        for offset, wallet in enumerate(sybils):
            if beat is None or beat + dt.timedelta(seconds=offset * 2) > window.now:
                continue
            occurred_at = beat + dt.timedelta(seconds=offset * 2)
            amount = Decimal("0.001000")
            yield ContractInteraction(
                project=project,
                chain=spec.chain,
                transaction_hash=_transaction_hash(spec.chain, rng),
                log_index=0,
                transfer_position=log_position(0),
                block_number=_block_at(spec.chain, occurred_at),
                wallet_address=wallet.address,
                from_address=wallet.address,
                to_address=project.contract_addresses[0],
                contract_address=project.contract_addresses[0],
                event_type="Swap",
                asset="ETH",
                asset_address=NATIVE_ASSET,
                amount=amount,
                value_usd=(amount * prices["ETH", day]).quantize(CENT, ROUND_HALF_UP),
                occurred_at=occurred_at,
                source=spec.source,
            )


def _flags_seed(
    project: Project,
    wallets: list[_Wallet],
    sybils: list[_Wallet],
    reviewer: User | None,
    window: _DemoWindow,
) -> int:
    """The ring: half confirmed by an operator, half still suspected; one cleared false alarm."""
    reviewed_at = dt.datetime.combine(window.days[-3], dt.time(11), tzinfo=dt.UTC)
    flags = []
    for index, wallet in enumerate(sybils):
        confirmed = index < len(sybils) // 2
        flags.append(
            WalletFlag(
                project=project,
                wallet_address=wallet.address,
                reason="lockstep",
                score=0.92 if confirmed else 0.74,
                evidence={"ring_size": len(sybils), "window_seconds": 2 * len(sybils)},
                status=FlagStatus.CONFIRMED if confirmed else FlagStatus.SUSPECTED,
                reviewed_by=reviewer if confirmed else None,
                reviewed_at=reviewed_at if confirmed else None,
            )
        )
    if wallets:
        flags.append(
            WalletFlag(
                project=project,
                wallet_address=wallets[0].address,
                reason="fresh_wallet",
                score=0.35,
                evidence={"prior_transactions": 0},
                status=FlagStatus.CLEARED,
                reviewed_by=reviewer,
                reviewed_at=reviewed_at,
            )
        )
    before = project.wallet_flags.count()
    WalletFlag.objects.bulk_create(flags, ignore_conflicts=True)
    return project.wallet_flags.count() - before


def _asset_prices_seed(window: _DemoWindow) -> int:
    """The demo assets' daily prices, as an operator would enter them (observed at noon)."""
    table = _price_table(window)
    prices: list[AssetPrice] = []
    for (chain, symbol), (address, decimals) in DEMO_ASSETS.items():
        asset, _ = Asset.objects.get_or_create(
            chain=chain,
            address=address,
            defaults={"symbol": symbol, "decimals": decimals, "enabled": True},
        )
        prices.extend(
            AssetPrice(
                asset=asset,
                day=day,
                price_usd=table[symbol, day],
                source=PriceSource.ADMIN,
                fetched_at=min(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), window.now),
            )
            for day in window.days
        )
    before = AssetPrice.objects.count()
    AssetPrice.objects.bulk_create(prices, ignore_conflicts=True)
    return AssetPrice.objects.count() - before


def _price_table(window: _DemoWindow) -> dict[tuple[str, dt.date], Decimal]:
    """A seeded random walk per asset over the demo days; USDC stays at a dollar."""
    table = {}
    for asset, walk in ASSET_PRICES.items():
        rng = _seeded(f"price:{asset}")
        price = walk[0] if walk else Decimal("1")
        for day in window.days:
            if walk:
                price *= Decimal(str(round(math.exp(rng.gauss(0.0015, walk[1])), 6)))
            table[asset, day] = price.quantize(Decimal("0.01"))
    return table


def _seeded(name: str) -> random.Random:
    # Reproducible on purpose: every machine seeds the same demo (nothing here is secret).
    return random.Random(f"fabrknt-demo:{name}")  # noqa: S311


def _weekday_factor(day: dt.date) -> float:
    return 0.8 if day.weekday() >= 5 else 1.0


def _address(chain: str, rng: random.Random) -> str:
    if chain.startswith("eip155"):
        return to_checksum_address(rng.randbytes(20))
    return base58.b58encode(rng.randbytes(32)).decode()


def _transaction_hash(chain: str, rng: random.Random) -> str:
    if chain.startswith("eip155"):
        return "0x" + rng.randbytes(32).hex()
    return base58.b58encode(rng.randbytes(64)).decode()  # a Solana signature


def _block_at(chain: str, moment: dt.datetime) -> int:
    if chain.startswith("eip155"):
        return int((moment - BASE_GENESIS).total_seconds() // 2)
    return int((moment - SOLANA_SLOT_ORIGIN).total_seconds() / 0.4)
