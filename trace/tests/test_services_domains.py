"""Landing domains: normalization, the token, and the check against a real local HTTP
server, with development's settings (loopback, http, the server's port) and with
production's (which refuse loopback without connecting)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import time

import pytest
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory
from fabrknt.api.errors import InvalidInput
from fabrknt.security.tests.local_site import Route
from fabrknt.tests.test_settings import production_env, run
from trace.models import LandingDomain
from trace.services.domains import (
    VERIFICATION_PATH,
    DomainVerificationFailed,
    domain_normalize,
    landing_domain_add,
    landing_domain_check,
    landing_domain_verify,
    verification_url,
)
from trace.tests.factories import LandingDomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(organization) -> LandingDomain:
    return LandingDomainFactory(
        organization=organization, domain="shop.example.com", verified_at=None
    )


def _url(site, path: str = VERIFICATION_PATH) -> str:
    return f"http://shop.example.com:{site.port}{path}"


def _serve(site, landing_domain: LandingDomain, body: bytes | None = None, **route) -> None:
    if body is None:
        body = f"someone-elses-token\n{landing_domain.token}\n".encode()
    site.routes[VERIFICATION_PATH] = Route(body=body, **route)


def _stored(landing_domain: LandingDomain) -> tuple:
    landing_domain.refresh_from_db()
    return landing_domain.verified_at, landing_domain.last_error


# --- the domain as typed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Example.COM", "example.com"),
        ("  app.example.com.  ", "app.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("a-b.c-d.example", "a-b.c-d.example"),
    ],
)
def test_domains_are_stored_lower_case_in_idna_form(typed, stored):
    assert domain_normalize(domain=typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "https://example.com",
        "example.com/path",
        "example.com:443",
        "user@example.com",
        "*.example.com",
        "exa mple.com",
        "localhost",
        "com",
        "127.0.0.1",
        "::1",
        "[::1]",
        "-bad.example.com",
        "ex_ample.com",
        "example.123",
        "a" * 64 + ".example",
        ("a" * 60 + ".") * 5 + "example",
        42,
        None,
    ],
)
def test_anything_but_a_host_name_is_refused_and_nothing_is_stored(organization, typed):
    with pytest.raises(InvalidInput) as refused:
        landing_domain_add(organization=organization, domain=typed)
    assert list(refused.value.fields) == ["domain"]
    assert LandingDomain.objects.count() == 0


def test_adding_issues_a_token_once_per_organization(organization):
    first, created = landing_domain_add(organization=organization, domain="Shop.Example.com")
    again, created_again = landing_domain_add(organization=organization, domain="shop.example.com")
    other, _ = landing_domain_add(organization=OrganizationFactory(), domain="shop.example.com")

    assert (created, created_again) == (True, False)
    assert (again.pk, again.token) == (first.pk, first.token)
    assert len(first.token) == 32
    assert other.token != first.token
    assert (first.domain, first.verified_at, first.last_checked_at) == (
        "shop.example.com",
        None,
        None,
    )
    assert LandingDomain.objects.count() == 2


def test_the_verification_url_is_https_on_the_domain_by_default(settings):
    assert verification_url(domain="shop.example.com") == (
        "https://shop.example.com/.well-known/fabrknt-verification.txt"
    )


# --- the check against the local server ----------------------------------------------------


def test_the_token_served_verifies_the_domain(local_verification, pending):
    _serve(local_verification, pending)
    before = timezone.now()

    verified = landing_domain_verify(landing_domain=pending)

    assert verified.verified_at is not None
    assert before <= verified.verified_at == verified.last_checked_at <= timezone.now()
    assert verified.last_error == ""
    port = local_verification.port
    assert local_verification.requests == [(VERIFICATION_PATH, f"shop.example.com:{port}")]


def test_a_second_pass_keeps_the_first_verification_time(local_verification, pending):
    _serve(local_verification, pending)
    first = landing_domain_check(landing_domain=pending).verified_at
    LandingDomain.objects.filter(pk=pending.pk).update(verified_at=first - dt.timedelta(days=3))

    again = landing_domain_check(landing_domain=pending)

    assert again.verified_at == first - dt.timedelta(days=3)
    assert again.last_checked_at > again.verified_at


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        (Route(body=b"someone-elses-token\n"), "{url} does not contain this domain's token"),
        # Only the whole token counts, not a line that merely contains it.
        (Route(body=b"x{token}x"), "{url} does not contain this domain's token"),
        (Route(status=500, body=b"{token}"), "{url} answered HTTP 500, not 200"),
        (Route(status=204), "{url} answered HTTP 204, not 200"),
        (
            Route(status=302, headers={"Location": "https://elsewhere.example/t.txt"}),
            "{url} redirects to another host (elsewhere.example); serve the file itself",
        ),
        (
            Route(status=301, headers={"Location": "http://shop.example.com:1/t.txt"}),
            "{url} redirects to another host (shop.example.com); serve the file itself",
        ),
        (Route(body=b"{token}" + b"\n" * 300), "the answer is larger than 256 bytes"),
        (
            Route(body=b"{token}" + b"\n" * 300, content_length=False),
            "the answer is larger than 256 bytes",
        ),
        (Route(hang=True), "shop.example.com did not answer in time"),
        # The limit is for the whole exchange, not for each read.
        (Route(body=b"{token}", drip_seconds=0.2), "shop.example.com did not answer in time"),
    ],
)
def test_a_failed_check_is_recorded_with_its_reason(local_verification, pending, route, problem):
    route.body = route.body.replace(b"{token}", pending.token.encode())
    local_verification.routes[VERIFICATION_PATH] = route
    started = time.monotonic()

    with pytest.raises(DomainVerificationFailed) as refused:
        landing_domain_verify(landing_domain=pending)

    assert time.monotonic() - started < 2
    expected = problem.format(url=_url(local_verification))
    assert (refused.value.status, refused.value.code) == (400, "domain_not_verified")
    assert refused.value.detail == expected
    assert _stored(pending) == (None, expected)
    assert pending.last_checked_at is not None
    assert len(local_verification.requests) == 1


def test_a_missing_file_is_a_404(local_verification, pending):
    assert landing_domain_check(landing_domain=pending).last_error == (
        f"{_url(local_verification)} answered HTTP 404, not 200"
    )


def test_a_redirect_to_another_host_is_neither_resolved_nor_followed(
    local_verification, fake_dns, pending
):
    local_verification.routes[VERIFICATION_PATH] = Route(
        status=302, headers={"Location": "http://elsewhere.example/fabrknt-verification.txt"}
    )
    assert landing_domain_check(landing_domain=pending).verified_at is None
    assert fake_dns.lookups == ["shop.example.com"]
    assert len(local_verification.requests) == 1


def test_same_host_redirects_are_followed_twice_at_most(local_verification, pending):
    site = local_verification
    site.routes[VERIFICATION_PATH] = Route(status=301, headers={"Location": "/one"})
    site.routes["/one"] = Route(status=302, headers={"Location": _url(site, "/two")})
    _serve(site, pending)
    site.routes["/two"] = site.routes.pop(VERIFICATION_PATH)
    site.routes[VERIFICATION_PATH] = Route(status=301, headers={"Location": "/one"})

    assert landing_domain_check(landing_domain=pending).verified_at is not None
    assert [path for path, _host in site.requests] == [VERIFICATION_PATH, "/one", "/two"]

    site.routes["/two"] = Route(status=307, headers={"Location": "/three"})
    assert _stored(landing_domain_check(landing_domain=pending)) == (
        None,
        "too many redirects (at most 2 are followed)",
    )


def test_a_failed_check_withdraws_a_verification(local_verification, organization):
    landing_domain = LandingDomainFactory(organization=organization, domain="shop.example.com")
    # The file is gone (the site changed hands, say): campaigns fall back to the interstitial.
    checked = landing_domain_check(landing_domain=landing_domain)
    assert (checked.verified_at, checked.last_error) == (
        None,
        f"{_url(local_verification)} answered HTTP 404, not 200",
    )


# --- production's settings: public addresses only ------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "0.0.0.0", "::1", "::ffff:7f00:1"])
def test_production_settings_refuse_loopback_without_connecting(
    local_verification, fake_dns, settings, pending, address
):
    # Production's guard, but the local site's scheme and port: had the guard let the
    # fetch through, it would have reached the local site and been counted there.
    settings.DOMAIN_VERIFICATION_ALLOW_PRIVATE = False
    fake_dns.answers["shop.example.com"] = [address]
    _serve(local_verification, pending)

    with pytest.raises(DomainVerificationFailed) as refused:
        landing_domain_verify(landing_domain=pending)

    shown = ipaddress.ip_address(address)
    expected = f"shop.example.com resolves to {shown}, which is not a public address"
    assert refused.value.detail == expected
    assert _stored(pending) == (None, expected)
    assert local_verification.connections == 0
    assert local_verification.requests == []


def test_production_settings_as_they_are(fake_dns, settings, pending):
    assert settings.DOMAIN_VERIFICATION_ALLOW_PRIVATE is False
    assert (settings.DOMAIN_VERIFICATION_SCHEME, settings.DOMAIN_VERIFICATION_PORT) == ("https", 0)
    fake_dns.answers["shop.example.com"] = ["127.0.0.1"]

    checked = landing_domain_check(landing_domain=pending)

    assert (checked.verified_at, checked.last_error) == (
        None,
        "shop.example.com resolves to 127.0.0.1, which is not a public address",
    )


def test_an_unknown_name_is_reported(fake_dns, pending):
    checked = landing_domain_check(landing_domain=pending)
    assert checked.last_error == "shop.example.com could not be resolved"


@pytest.mark.parametrize(
    "override",
    [
        {"DOMAIN_VERIFICATION_ALLOW_PRIVATE": "1"},
        {"DOMAIN_VERIFICATION_SCHEME": "http"},
        {"DOMAIN_VERIFICATION_PORT": "8080"},
    ],
)
def test_production_refuses_to_start_with_the_development_overrides(override):
    result = run(["-c", "import django; django.setup()"], production_env(**override))
    assert result.returncode != 0
    assert "DOMAIN_VERIFICATION_ALLOW_PRIVATE, _SCHEME and _PORT are for development only" in (
        result.stderr
    )
