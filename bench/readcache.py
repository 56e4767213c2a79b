"""Benchmark: what the read cache saves per request, measured in-process.

    .venv/bin/python bench/readcache.py [--requests 200] [--rounds 5]

Each cached read path (fabrknt/readcache.py) on the demo data is called through the WSGI
application gunicorn serves, bench/request_cost.py's way (same settings, warmed first,
CPU ms of this process and of its PostgreSQL backend, wall ms, SQL queries and Redis round
trips), with the cache on and off (READ_CACHE_ENABLED) in interleaved rounds: each round
measures every path with the cache, then without, so both see the same moment of a
shared machine. With the cache on, the entry is warm (the first call of the round fills
it); the answer is identical either way. Redis is REDIS_URL's (not flushed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.request_cost import RAISED, Cost, Runner, Target  # noqa: E402


def targets() -> list[Target]:
    """The demo (seeded by `manage.py seed_demo` beforehand), a certificate of its busiest
    project (issued when missing) and the demo operator's session for the team page."""
    from django.conf import settings
    from django.test import Client

    from accounts.services.demo import demo_accounts_ensure
    from fabric.models import Listing, Visibility
    from fabric.selectors import market_listings
    from pulse.models import Team
    from trace.models import GrowthCertificate, Project
    from trace.services.certificates import certificate_issue

    accounts = demo_accounts_ensure()
    public = market_listings().filter(visibility=Visibility.PUBLIC).first()
    listing = public or Listing.objects.first()
    team = Team.objects.filter(organization=accounts.organization).first()
    if listing is None or team is None:
        raise SystemExit("No demo listing or team: run `manage.py seed_demo` first.")
    certificate = GrowthCertificate.objects.first()
    if certificate is None:
        project = Project.objects.filter(organization=accounts.organization).first()
        assert project is not None
        certificate = certificate_issue(project_id=project.pk)
    client = Client()
    client.force_login(accounts.user)
    cookie = settings.SESSION_COOKIE_NAME
    page = {"Cookie": f"{cookie}={client.cookies[cookie].value}"}
    return [
        Target("listings (API)", "/api/v1/listings"),
        Target("listing detail (API)", f"/api/v1/listings/{listing.pk}"),
        Target("suite summary (API)", f"/api/v1/suite/summary/{listing.pk}"),
        Target("team vitality page", f"/pulse/teams/{team.pulse_id}/", page),
        Target("certificate page", f"/verify/{certificate.pk}"),
        Target("certificate (API)", f"/api/v1/certificates/{certificate.pk}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests a round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(
        {
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "600",
            "DJANGO_SETTINGS_MODULE": "fabrknt.settings",
            "RATE_LIMIT_ANONYMOUS": RAISED,
            "RATE_LIMIT_USER": RAISED,
            "RATE_LIMIT_API_KEY": RAISED,
        }
    )
    import django

    django.setup()
    from django.conf import settings

    paths = targets()
    runner = Runner(paths)
    costs = {(t.label, on): Cost() for t in paths for on in (True, False)}
    for _ in range(args.rounds):
        for target in paths:
            for on in (True, False):
                settings.READ_CACHE_ENABLED = on
                runner.call(target)  # with the cache: the entry is warm from here on
                costs[target.label, on].add(runner.round(target, args.requests))
    for target in paths:
        for on in (True, False):
            settings.READ_CACHE_ENABLED = on
            runner.call(target)
            cost = costs[target.label, on]
            cost.queries, cost.round_trips = runner.counts(target, args.requests)
    print(
        f"{'read':<22} {'cache':>5} {'CPU ms':>7} {'median':>7} {'DB CPU ms':>9} "
        f"{'wall ms':>8} {'queries':>7} {'Redis RT':>8} {'saved':>6}"
    )
    for target in paths:
        off = costs[target.label, False]
        for on in (True, False):
            cost = costs[target.label, on]
            total = min(cost.cpu_ms) + statistics.median(cost.db_cpu_ms)
            total_off = min(off.cpu_ms) + statistics.median(off.db_cpu_ms)
            saved = f"{1 - total / total_off:.0%}" if on else ""
            print(
                f"{target.label:<22} {'on' if on else 'off':>5} {min(cost.cpu_ms):>7.2f} "
                f"{statistics.median(cost.cpu_ms):>7.2f} "
                f"{statistics.median(cost.db_cpu_ms):>9.2f} "
                f"{statistics.median(cost.wall_ms):>8.2f} {cost.queries:>7.2f} "
                f"{cost.round_trips:>8.2f} {saved:>6}"
            )
    print(
        f"per request over {args.rounds} interleaved rounds of {args.requests}: CPU ms of "
        "this process (best round, median), its database backend's CPU and the wall time "
        "(medians); saved = 1 - (CPU ms best + DB CPU ms) with the cache / without; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
