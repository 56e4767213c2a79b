"""Landing domains: an organization proves that it controls the site its campaigns send
visitors to, so that `/t/` is not an open redirect for anyone who signs up.

It adds a domain, gets a random token, serves the token in
`https://DOMAIN/.well-known/fabrknt-verification.txt` (a file that may hold other lines,
e.g. the tokens of several organizations) and asks us to check. The check fetches that
file only from public addresses, within a few seconds, at most a few KiB, following at
most two redirects and only on the same host (fabrknt.security.public_fetch).

A verified domain covers its subdomains: whoever serves files at example.com's web root
controls example.com, and so app.example.com. A host is never covered by a verification
of one of its subdomains, nor by one of another organization.

Every check records its outcome: a failed one (the file gone, the site down) withdraws a
verification, so the safe page (the interstitial) is what a visitor sees until it passes
again.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import time
import uuid
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organization
from fabrknt.api.errors import InvalidInput, NotFound, ServiceError
from fabrknt.security.public_fetch import FetchRefused, public_get
from trace.models import LandingDomain

VERIFICATION_PATH = "/.well-known/fabrknt-verification.txt"
VERIFICATION_MAX_REDIRECTS = 2
# `/t/` asks whether a landing URL's host is verified at most once per organization, host
# and this many seconds in each process: a domain verified (or withdrawn) now takes
# effect everywhere within this time.
VERIFIED_CACHE_SECONDS = 30
_VERIFIED_CACHE_MAX = 50_000
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_ERROR = 500


class DomainVerificationFailed(ServiceError):
    status = 400
    code = "domain_not_verified"
    default_detail = "The domain could not be verified."


def host_normalize(host: str | None) -> str | None:
    """A host name in the form domains are stored in (lower case, IDNA, no trailing dot),
    or None for an IP address or anything that is not a host name of two labels or more."""
    if not host or not isinstance(host, str):
        return None
    host = host.strip().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_host


def domain_normalize(*, domain: object) -> str:
    """The stored form of a domain a caller typed; InvalidInput (field `domain`) if it is
    not a bare host name."""
    if not isinstance(domain, str) or not domain.strip():
        raise _invalid_domain("Enter a host name, e.g. app.example.com.")
    domain = domain.strip()
    if any(mark in domain for mark in ("/", ":", "@", "?", "#", "*", " ")):
        raise _invalid_domain("A host name only: no scheme, port, path or wildcard.")
    normalized = host_normalize(domain)
    if normalized is None:
        raise _invalid_domain(
            "Not a host name that can be verified (an IP address, a single label, "
            "or characters a domain cannot hold)."
        )
    return normalized


def _invalid_domain(message: str) -> InvalidInput:
    return InvalidInput(fields={"domain": [message]})


def verification_url(*, domain: str) -> str:
    """Where the token must be served. Development may fetch over http, on another port."""
    scheme = settings.DOMAIN_VERIFICATION_SCHEME
    port = settings.DOMAIN_VERIFICATION_PORT
    return f"{scheme}://{domain}{f':{port}' if port else ''}{VERIFICATION_PATH}"


def landing_domain_add(*, organization: Organization, domain: object) -> tuple[LandingDomain, bool]:
    """The organization's claim on `domain` with its token; (existing, False) on a repeat."""
    normalized = domain_normalize(domain=domain)
    with transaction.atomic():
        return LandingDomain.objects.get_or_create(organization=organization, domain=normalized)


def organization_landing_domains(*, organization: Organization) -> QuerySet[LandingDomain]:
    return LandingDomain.objects.filter(organization=organization).order_by("domain")


def landing_domain_get(*, organization: Organization, domain: str) -> LandingDomain:
    """The organization's row for `domain` in any spelling that normalizes to it."""
    normalized = host_normalize(domain)
    landing_domain = (
        organization_landing_domains(organization=organization).filter(domain=normalized).first()
        if normalized is not None
        else None
    )
    if landing_domain is None:
        raise NotFound()
    return landing_domain


def landing_domain_check(*, landing_domain: LandingDomain) -> LandingDomain:
    """Fetch the verification file now and record the outcome on the row (verified since
    when, or the reason it is not). No database transaction is held while fetching."""
    reason = _verification_problem(landing_domain)
    now = timezone.now()
    changes = (
        {"verified_at": Coalesce(F("verified_at"), now), "last_error": ""}
        if reason is None
        else {"verified_at": None, "last_error": reason[:_MAX_ERROR]}
    )
    updated = LandingDomain.objects.filter(pk=landing_domain.pk).update(
        last_checked_at=now, **changes
    )
    if not updated:
        raise NotFound()  # removed while it was being checked
    transaction.on_commit(verified_cache_clear)
    landing_domain.refresh_from_db(fields=["verified_at", "last_checked_at", "last_error"])
    return landing_domain


def landing_domain_verify(*, landing_domain: LandingDomain) -> LandingDomain:
    """Check now; DomainVerificationFailed, with the reason, unless the domain passes."""
    landing_domain = landing_domain_check(landing_domain=landing_domain)
    if landing_domain.verified_at is None:
        raise DomainVerificationFailed(landing_domain.last_error)
    return landing_domain


def landing_domain_remove(*, landing_domain: LandingDomain) -> None:
    landing_domain.delete()
    transaction.on_commit(verified_cache_clear)


def _verification_problem(landing_domain: LandingDomain) -> str | None:
    """Why the token is not served for this domain, or None when it is."""
    url = verification_url(domain=landing_domain.domain)
    try:
        result = public_get(
            url,
            timeout=settings.DOMAIN_VERIFICATION_TIMEOUT_SECONDS,
            max_bytes=settings.DOMAIN_VERIFICATION_MAX_BYTES,
            max_redirects=VERIFICATION_MAX_REDIRECTS,
            allow_private=settings.DOMAIN_VERIFICATION_ALLOW_PRIVATE,
        )
    except FetchRefused as refusal:
        return str(refusal)
    if result.status != 200:
        return f"{result.url} answered HTTP {result.status}, not 200"
    if landing_domain.token not in result.body.decode("utf-8", "replace").split():
        return f"{result.url} does not contain this domain's token"
    return None


# --- what /t/ asks ------------------------------------------------------------------------


def landing_url_verified(*, organization_id: uuid.UUID | str, landing_url: str) -> bool:
    """Whether the organization has verified the host of this http(s) URL (or a parent
    domain of it). Cached per process for up to VERIFIED_CACHE_SECONDS."""
    host = landing_url_host(landing_url)
    if host is None:
        return False
    window = int(time.monotonic() // VERIFIED_CACHE_SECONDS)
    return _host_verified(str(organization_id), host, window)


def landing_url_host(url: str) -> str | None:
    """The host (stored form) a browser goes to for this http(s) URL, or None when it has
    none we can vouch for: an IP address, or a URL that browsers and Python's parser may
    read differently. `https://evil.example\\@good.example/` is evil.example to a
    browser (a backslash ends the host) but good.example to urlsplit (user info)."""
    if "\\" in url or any(ord(character) <= 0x20 or ord(character) == 0x7F for character in url):
        return None
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        return None
    return host_normalize(hostname)


@functools.lru_cache(maxsize=_VERIFIED_CACHE_MAX)
def _host_verified(organization_id: str, host: str, _window: int) -> bool:
    # `_window` changes every VERIFIED_CACHE_SECONDS, so an answer is never reused after
    # that; stale entries are simply the least recently used ones.
    labels = host.split(".")
    covering = [".".join(labels[start:]) for start in range(len(labels) - 1)]
    return LandingDomain.objects.filter(
        organization_id=organization_id, domain__in=covering, verified_at__isnull=False
    ).exists()


def verified_cache_clear() -> None:
    """Forget this process's answers (the other processes' expire on their own)."""
    _host_verified.cache_clear()
