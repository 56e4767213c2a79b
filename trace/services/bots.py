"""Bot and sybil detection: marks bot clicks and flags suspicious wallets; never deletes.

Click side (sets `Click.is_bot` / `bot_reason` on clicks not already marked):
- `user_agent:<match>`: a crawler, scraper, headless browser or link-preview fetcher, by
  the CrawlerDetect pattern list (the `crawlerdetect` package); `empty_user_agent`: none
  sent. `click_bot_reason` is the one classifier: ingest marks clicks with it as they
  arrive, and this detector with the same vocabulary for clicks that arrived unmarked.
- `datacenter`: the (truncated) IP lies in a cloud provider's published range.
- `ip_rate`: more than IP_CLICKS_PER_MINUTE clicks from one (truncated) IP in one minute.

Wallet side (one `WalletFlag` per project, wallet and reason, with a 0..1 score and its
evidence; re-running refreshes score and evidence but never an operator's status):
- `common_funder`: the wallet's first incoming transfer came from a source that funded at
  least FUNDER_MIN_WALLETS wallets that way.
- `lockstep`: the wallet transacted in the same LOCKSTEP_SECONDS window as the same
  partners at least LOCKSTEP_MIN_REPEATS times, in a group of LOCKSTEP_MIN_GROUP or more.
- `fresh_wallet`: nothing of the wallet is known before it was funded, and it acted within
  FRESH_WINDOW of that funding. A weak signal (new users look like this too), so it scores
  low and matters when it adds to others.
- `star_pattern`: one hub sending to, or collecting from, STAR_MIN_SPOKES or more wallets.
- `transfer_chain`: A→B→C→D… chains of at least CHAIN_MIN_HOPS transfers in which every
  wallet passes funds to exactly one next wallet.

Transfers come from `ContractInteraction.from_address/to_address`; the project's own
contracts and treasuries and the zero address are never counted as a funder or hub.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import TypeVar
from uuid import UUID

import networkx as nx
from crawlerdetect import CrawlerDetect
from django.db import connection, transaction
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncMinute
from django.utils import timezone

from accounts.models import User
from trace.models import Click, ContractInteraction, FlagStatus, Project, WalletFlag
from trace.services.rollups import campaign_days_clicks_recount, click_cells

# Hourly runs look back a little more than an hour so nothing falls between two runs.
CLICK_LOOKBACK = dt.timedelta(hours=2)
# Per truncated IP (/24, /48): an office or a mobile carrier shares one, so be generous.
IP_CLICKS_PER_MINUTE = 60

FUNDER_MIN_WALLETS = 5
LOCKSTEP_SECONDS = 10
LOCKSTEP_MIN_REPEATS = 3
LOCKSTEP_MIN_GROUP = 3
# A window with more wallets than this is a public moment (a mint opening), not a ring.
LOCKSTEP_MAX_GROUP = 100
FRESH_WINDOW = dt.timedelta(hours=1)
STAR_MIN_SPOKES = 10
CHAIN_MIN_HOPS = 3

# A handful of published cloud ranges (AWS ip-ranges.json, Google cloud.json, Azure
# service tags, and the Hetzner, OVH and DigitalOcean allocations), enough to catch the
# usual click farms; a production set-up would refresh the full lists from those feeds.
DATACENTER_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "3.208.0.0/12",  # AWS us-east-1
        "54.144.0.0/14",  # AWS us-east-1
        "2600:1f00::/24",  # AWS IPv6
        "34.64.0.0/10",  # Google Cloud
        "35.184.0.0/13",  # Google Cloud
        "20.36.0.0/14",  # Azure
        "40.64.0.0/10",  # Azure
        "5.9.0.0/16",  # Hetzner
        "88.198.0.0/16",  # Hetzner
        "2a01:4f8::/29",  # Hetzner IPv6
        "51.68.0.0/16",  # OVH
        "137.74.0.0/16",  # OVH
        "2001:41d0::/32",  # OVH IPv6
        "104.131.0.0/16",  # DigitalOcean
        "159.203.0.0/16",  # DigitalOcean
        "167.99.0.0/16",  # DigitalOcean
        "2604:a880::/32",  # DigitalOcean IPv6
    )
)

NOT_A_FUNDER = {
    "",
    "0x0000000000000000000000000000000000000000",
    "11111111111111111111111111111111",  # Solana's system program
}

# Seconds since the epoch, bucketed into LOCKSTEP_SECONDS windows, per database.
_BUCKET_SQL = {
    "postgresql": "CAST(FLOOR(EXTRACT(EPOCH FROM i.occurred_at) / %(seconds)s) AS BIGINT)",
    "sqlite": "(CAST(strftime('%%s', substr(i.occurred_at, 1, 19)) AS INTEGER) / %(seconds)s)",
}

_CROWDED_WINDOWS_SQL = """
WITH windows AS (
    SELECT DISTINCT i.wallet_address AS wallet, {bucket} AS bucket
    FROM {interaction} i
    WHERE i.project_id = %(project)s AND i.occurred_at >= %(since)s
),
crowded AS (
    SELECT bucket FROM windows GROUP BY bucket
    HAVING COUNT(*) >= %(min_group)s AND COUNT(*) <= %(max_group)s
)
SELECT w.bucket, w.wallet FROM windows w JOIN crowded c ON c.bucket = w.bucket
ORDER BY w.bucket, w.wallet
"""

# Wallet-side rules read this much history.
WALLET_LOOKBACK = dt.timedelta(days=90)


@dataclass(frozen=True)
class Finding:
    wallet: str
    reason: str
    score: float
    evidence: dict[str, object]


# --- clicks ---------------------------------------------------------------------------


# Long enough for a day's distinct user agents on a busy ingest process: CrawlerDetect's
# pattern list costs about 0.2 ms per new agent, a cache hit microseconds.
@lru_cache(maxsize=8192)
def _crawler_match(user_agent: str) -> str | None:
    # CrawlerDetect keeps the last match on the instance, so one per call (the compiled
    # patterns are cached by `re`).
    detector = CrawlerDetect()
    if not detector.isCrawler(user_agent):
        return None
    return (detector.getMatches() or "unknown").lower()


def click_bot_reason(*, user_agent: str, method: str = "GET") -> str:
    """Why a request is bot traffic, "" for a person's browser. The one vocabulary of
    `Click.bot_reason` for user agents: `head_request`, `empty_user_agent`, and
    `user_agent:<what CrawlerDetect matched>` (`user_agent:telegrambot`,
    `user_agent:curl`, `user_agent:headless`); the detector adds `datacenter` and
    `ip_rate`."""
    if method == "HEAD":
        return "head_request"
    if not user_agent.strip():
        return "empty_user_agent"
    match = _crawler_match(user_agent)
    return "" if match is None else f"user_agent:{match}"[:64]


def ip_is_datacenter(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in DATACENTER_NETWORKS)


def _mark_clicks(clicks: QuerySet[Click], reason: str) -> int:
    """Mark people's clicks as bots', and recount their campaigns' days."""
    people = clicks.filter(is_bot=False)
    with transaction.atomic():
        cells = click_cells(people)
        marked = people.update(is_bot=True, bot_reason=reason)
        if marked:
            campaign_days_clicks_recount(cells)
    return marked


T = TypeVar("T")


def _chunked(values: list[T], size: int = 500) -> Iterable[list[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def clicks_detect(
    *, project_id: UUID | str | None = None, since: dt.datetime | None = None
) -> dict[str, int]:
    """Mark recent bot clicks; returns how many clicks each rule marked."""
    since = since or timezone.now() - CLICK_LOOKBACK
    recent = Click.objects.filter(occurred_at__gte=since)
    if project_id is not None:
        recent = recent.filter(campaign__project_id=project_id)
    counts = {"click_user_agent": 0, "click_datacenter": 0, "click_ip_rate": 0}

    agents = recent.filter(is_bot=False).values_list("user_agent", flat=True).distinct()
    by_reason = defaultdict(list)
    for agent in agents:
        reason = click_bot_reason(user_agent=agent)
        if reason:
            by_reason[reason].append(agent)
    for reason, bot_agents in by_reason.items():
        for chunk in _chunked(bot_agents):
            counts["click_user_agent"] += _mark_clicks(recent.filter(user_agent__in=chunk), reason)

    ips = recent.filter(is_bot=False).values_list("ip_address", flat=True).distinct()
    cloud_ips = [ip for ip in ips if ip_is_datacenter(ip)]
    for chunk in _chunked(cloud_ips):
        counts["click_datacenter"] += _mark_clicks(
            recent.filter(ip_address__in=chunk), "datacenter"
        )

    busy_minutes = (
        recent.exclude(ip_address="")
        .annotate(minute=TruncMinute("occurred_at"))
        .values("ip_address", "minute")
        .annotate(clicks=Count("id"))
        .filter(clicks__gt=IP_CLICKS_PER_MINUTE)
    )
    for bucket in busy_minutes:
        minute = bucket["minute"]
        in_minute = recent.filter(
            ip_address=bucket["ip_address"],
            occurred_at__gte=minute,
            occurred_at__lt=minute + dt.timedelta(minutes=1),
        )
        counts["click_ip_rate"] += _mark_clicks(in_minute, "ip_rate")
    return counts


# --- wallets --------------------------------------------------------------------------


def _excluded_addresses(project: Project) -> set[str]:
    own = [*project.contract_addresses, *project.treasury_addresses]
    return {address.lower() for address in [*NOT_A_FUNDER, *own]}


def _transfer_edges(project: Project, since: dt.datetime) -> list[tuple[str, str, dt.datetime]]:
    """Distinct (from, to, first time) transfers between wallets of the project's data."""
    excluded = _excluded_addresses(project)
    rows = (
        ContractInteraction.objects.filter(project=project, occurred_at__gte=since)
        .exclude(from_address="")
        .exclude(to_address="")
        .values("from_address", "to_address")
        .annotate(first_at=Min("occurred_at"))
        .values_list("from_address", "to_address", "first_at")
    )
    return [
        (source, target, first_at)
        for source, target, first_at in rows
        if source != target and source.lower() not in excluded and target.lower() not in excluded
    ]


def _first_funding(edges: list[tuple[str, str, dt.datetime]]) -> dict[str, tuple[str, dt.datetime]]:
    """Each wallet's first incoming transfer: {wallet: (funder, when)}."""
    first: dict[str, tuple[str, dt.datetime]] = {}
    for source, target, when in edges:
        if target not in first or (when, source) < (first[target][1], first[target][0]):
            first[target] = (source, when)
    return first


def _score(base: float, step: float, excess: int, cap: float = 0.95) -> float:
    return round(min(cap, base + step * max(0, excess)), 2)


def _common_funder(funding: dict[str, tuple[str, dt.datetime]]) -> list[Finding]:
    funded_by: dict[str, list[str]] = defaultdict(list)
    for wallet, (funder, _) in funding.items():
        funded_by[funder].append(wallet)
    findings = []
    for funder, wallets in funded_by.items():
        if len(wallets) < FUNDER_MIN_WALLETS:
            continue
        evidence = {
            "funder": funder,
            "wallets_funded": len(wallets),
            "sample": sorted(wallets)[:10],
        }
        score = _score(0.6, 0.05, len(wallets) - FUNDER_MIN_WALLETS)
        findings += [Finding(w, "common_funder", score, evidence) for w in wallets]
    return findings


def _star_pattern(edges: list[tuple[str, str, dt.datetime]]) -> list[Finding]:
    receivers: dict[str, set[str]] = defaultdict(set)
    senders: dict[str, set[str]] = defaultdict(set)
    for source, target, _ in edges:
        receivers[source].add(target)
        senders[target].add(source)
    findings = []
    for direction, spokes_of in (("out", receivers), ("in", senders)):
        for hub, spokes in spokes_of.items():
            if len(spokes) < STAR_MIN_SPOKES:
                continue
            score = _score(0.5, 0.03, len(spokes) - STAR_MIN_SPOKES, cap=0.9)
            evidence = {
                "hub": hub,
                "direction": direction,
                "spokes": len(spokes),
                "sample": sorted(spokes)[:10],
            }
            findings.append(Finding(hub, "star_pattern", score, {**evidence, "role": "hub"}))
            findings += [
                Finding(w, "star_pattern", score, {**evidence, "role": "spoke"}) for w in spokes
            ]
    return findings


def _transfer_chains(edges: list[tuple[str, str, dt.datetime]]) -> list[Finding]:
    transfers: nx.DiGraph[str] = nx.DiGraph([(source, target) for source, target, _ in edges])
    # Links where the sender sends only there and the receiver receives only from there:
    # every wallet has at most one link in and one out, so each piece is a simple path (or
    # a cycle, which has no first wallet and is left alone).
    links: nx.DiGraph[str] = nx.DiGraph(
        [
            (source, target)
            for source, target in transfers.edges
            if transfers.out_degree(source) == 1 and transfers.in_degree(target) == 1
        ]
    )
    findings = []
    for wallets in nx.weakly_connected_components(links):
        piece = links.subgraph(wallets)
        hops = piece.number_of_edges()
        if hops < CHAIN_MIN_HOPS or not nx.is_directed_acyclic_graph(piece):
            continue
        path = list(nx.topological_sort(piece))
        score = _score(0.6, 0.05, hops - CHAIN_MIN_HOPS)
        evidence = {"hops": hops, "path": path[:20]}
        findings += [Finding(w, "transfer_chain", score, evidence) for w in path]
    return findings


def _fresh_wallets(
    project: Project, funding: dict[str, tuple[str, dt.datetime]], since: dt.datetime
) -> list[Finding]:
    if not funding:
        return []
    interactions = ContractInteraction.objects.filter(project=project, occurred_at__gte=since)
    first_acted = dict(
        interactions.exclude(from_address="")
        .values("from_address")
        .annotate(first=Min("occurred_at"))
        .values_list("from_address", "first")
    )
    first_seen = dict(
        interactions.values("wallet_address")
        .annotate(first=Min("occurred_at"))
        .values_list("wallet_address", "first")
    )
    findings = []
    for wallet, (funder, funded_at) in funding.items():
        acted_at = first_acted.get(wallet)
        if acted_at is None or not funded_at <= acted_at <= funded_at + FRESH_WINDOW:
            continue
        if first_seen.get(wallet, funded_at) < funded_at:
            continue  # it was around before it was funded
        evidence = {
            "funder": funder,
            "funded_at": funded_at.isoformat(),
            "first_action_at": acted_at.isoformat(),
            "seconds_after_funding": int((acted_at - funded_at).total_seconds()),
        }
        findings.append(Finding(wallet, "fresh_wallet", 0.3, evidence))
    return findings


def _lockstep(project: Project, since: dt.datetime) -> list[Finding]:
    bucket_sql = _BUCKET_SQL.get(connection.vendor)
    if bucket_sql is None:
        return []
    sql = _CROWDED_WINDOWS_SQL.format(
        bucket=bucket_sql,
        interaction=connection.ops.quote_name(ContractInteraction._meta.db_table),
    )
    params = {
        "project": ContractInteraction._meta.get_field("project").get_db_prep_value(
            project.id, connection
        ),
        "since": connection.ops.adapt_datetimefield_value(since),
        "seconds": LOCKSTEP_SECONDS,
        "min_group": LOCKSTEP_MIN_GROUP,
        "max_group": LOCKSTEP_MAX_GROUP,
    }
    windows: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for bucket, wallet in cursor.fetchall():
            windows[bucket].append(wallet)

    together: dict[tuple[str, str], int] = defaultdict(int)
    for wallets in windows.values():
        for pair in combinations(sorted(wallets), 2):
            together[pair] += 1
    # Wallets that shared enough windows, joined: each connected group is a ring.
    partners: nx.Graph[str] = nx.Graph()
    partners.add_edges_from(
        (a, b, {"times": times})
        for (a, b), times in together.items()
        if times >= LOCKSTEP_MIN_REPEATS
    )
    findings = []
    for group in nx.connected_components(partners):
        if len(group) < LOCKSTEP_MIN_GROUP:
            continue
        for member in sorted(group):
            # types-networkx leaves the value `data="times"` reads untyped (Never).
            shared: Iterable[tuple[str, str, int]] = partners.edges(member, data="times")
            repeats = max(times for _, _, times in shared)
            evidence = {
                "group_size": len(group),
                "window_seconds": LOCKSTEP_SECONDS,
                "shared_windows": repeats,
                "partners": sorted(partners.neighbors(member))[:10],
            }
            score = _score(0.5, 0.1, repeats - LOCKSTEP_MIN_REPEATS)
            findings.append(Finding(member, "lockstep", score, evidence))
    return findings


def _flags_save(project: Project, findings: list[Finding]) -> None:
    # One flag per wallet and reason: keep the strongest finding (a wallet can be a spoke
    # of two stars).
    strongest: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.wallet, finding.reason)
        if key not in strongest or finding.score > strongest[key].score:
            strongest[key] = finding
    flags = [
        WalletFlag(
            project=project,
            wallet_address=f.wallet,
            reason=f.reason,
            score=f.score,
            evidence=f.evidence,
        )
        for f in strongest.values()
    ]
    # `status`, `reviewed_by` and `reviewed_at` are not updated on conflict: what an
    # operator decided stays decided.
    with transaction.atomic():
        WalletFlag.objects.bulk_create(
            flags,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["project", "wallet_address", "reason"],
            update_fields=["score", "evidence", "updated_at"],
        )


def wallets_detect(*, project: Project, now: dt.datetime | None = None) -> dict[str, int]:
    """Run every wallet rule over a project's recent history; returns wallets per reason."""
    since = (now or timezone.now()) - WALLET_LOOKBACK
    edges = _transfer_edges(project, since)
    funding = _first_funding(edges)
    findings = [
        *_common_funder(funding),
        *_lockstep(project, since),
        *_fresh_wallets(project, funding, since),
        *_star_pattern(edges),
        *_transfer_chains(edges),
    ]
    _flags_save(project, findings)
    counts: dict[str, int] = defaultdict(int)
    for _wallet, reason in {(f.wallet, f.reason) for f in findings}:
        counts[f"wallet_{reason}"] += 1
    return dict(counts)


def bots_detect(*, project_id: UUID | str | None = None) -> dict[str, int]:
    """Both sides for one project or all; returns clicks marked and wallets flagged."""
    counts: dict[str, int] = defaultdict(int)
    counts.update(clicks_detect(project_id=project_id))
    projects = Project.objects.order_by("created_at", "id")
    if project_id is not None:
        projects = projects.filter(id=project_id)
    for project in projects:
        for key, value in wallets_detect(project=project).items():
            counts[key] += value
    return dict(counts)


def wallet_flag_review(*, flag_id: int, status: str, reviewer: User | None) -> bool:
    """An operator confirms or clears a flag; False if it already had that status."""
    if status not in (FlagStatus.CONFIRMED, FlagStatus.CLEARED):
        raise ValueError("a review confirms or clears a flag")
    changed = WalletFlag.objects.filter(Q(pk=flag_id) & ~Q(status=status)).update(
        status=status, reviewed_by=reviewer, reviewed_at=timezone.now(), updated_at=timezone.now()
    )
    return bool(changed)
