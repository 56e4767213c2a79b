"""OAuth with GitHub and Discord: signed single-use states, and the few calls each flow
makes (code for token, token for the user, or for the guild the bot was added to).

A state is a signed, timestamped document (django.core.signing, salted per purpose)
naming what the flow is for (`purpose`), whom (`subject`: a user id, a team's pulse_id)
and a random nonce; it expires after OAUTH_STATE_TTL and is spent by its first use (an
atomic `cache.add` of the nonce, Redis in production), so a redirect URL replayed from a
browser's history or a log does nothing.

The providers' base URLs are settings (GITHUB_URL, GITHUB_API_URL, DISCORD_BASE_URL),
so tests point them at a local server that speaks those endpoints.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core import signing
from django.core.cache import cache

from fabrknt.api.errors import InvalidInput, Unavailable

_SALT = "pulse.oauth.state"


class OAuthStateInvalid(InvalidInput):
    code = "oauth_state_invalid"
    default_detail = "This link has expired or was already used: start again."


class OAuthRefused(InvalidInput):
    code = "oauth_refused"
    default_detail = "The provider did not confirm this sign-in: start again."


def oauth_state_make(*, purpose: str, subject: str) -> str:
    document = {"p": purpose, "s": subject, "n": secrets.token_urlsafe(16)}
    return signing.dumps(document, salt=f"{_SALT}:{purpose}", compress=True)


def oauth_state_spend(*, state: str, purpose: str, max_age: timedelta | None = None) -> str:
    """The subject of a valid, unused state of this purpose, younger than `max_age`
    (OAUTH_STATE_TTL by default); spends it."""
    max_age = max_age or settings.OAUTH_STATE_TTL
    try:
        document = signing.loads(state, salt=f"{_SALT}:{purpose}", max_age=max_age)
    except signing.BadSignature as error:  # SignatureExpired is one
        raise OAuthStateInvalid() from error
    if not isinstance(document, dict) or document.get("p") != purpose:
        raise OAuthStateInvalid()
    ttl = int(max_age.total_seconds()) + 60
    if not cache.add(f"pulse:oauth-state:{document['n']}", 1, ttl):
        raise OAuthStateInvalid()
    return str(document["s"])


def _provider_call(provider: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """A JSON object from the provider; a refusal (4xx, an `error` field) is OAuthRefused,
    no answer or a 5xx is Unavailable (503)."""
    try:
        response = requests.request(
            method, url, timeout=settings.OAUTH_HTTP_TIMEOUT_SECONDS, **kwargs
        )
    except requests.RequestException as error:
        raise Unavailable(f"{provider} did not answer.", code="provider_unavailable") from error
    if response.status_code >= 500:
        raise Unavailable(
            f"{provider} answered {response.status_code}.", code="provider_unavailable"
        )
    try:
        body = response.json()
    except ValueError as error:
        raise OAuthRefused(f"{provider} answered something that is not JSON.") from error
    if response.status_code >= 400 or not isinstance(body, dict) or "error" in body:
        detail = (
            body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        )
        raise OAuthRefused(
            f"{provider} refused: {str(detail or response.status_code).rstrip('.')}."
        )
    return body


def _configured(*names: str) -> None:
    if missing := [name for name in names if not getattr(settings, name)]:
        raise Unavailable(
            f"This integration is not configured ({', '.join(missing)}).", code="not_configured"
        )


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in: a stable id and the visible name."""

    id: str
    name: str


# --- GitHub (OAuth App web flow) --------------------------------------------------------


def github_authorize_url(*, state: str, redirect_uri: str) -> str:
    _configured("GITHUB_OAUTH_CLIENT_ID", "GITHUB_OAUTH_CLIENT_SECRET")
    query = {
        "client_id": settings.GITHUB_OAUTH_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "state": state,
        "allow_signup": "false",
    }
    # No scope: the public profile is all that proves the login.
    return f"{settings.GITHUB_URL}/login/oauth/authorize?{urlencode(query)}"


def github_identity_fetch(*, code: str, redirect_uri: str) -> ProviderIdentity:
    _configured("GITHUB_OAUTH_CLIENT_ID", "GITHUB_OAUTH_CLIENT_SECRET")
    token = _provider_call(
        "GitHub",
        "POST",
        f"{settings.GITHUB_URL}/login/oauth/access_token",
        data={
            "client_id": settings.GITHUB_OAUTH_CLIENT_ID,
            "client_secret": settings.GITHUB_OAUTH_CLIENT_SECRET,
            "code": code,
            "redirect_uri": redirect_uri,
        },
        headers={"Accept": "application/json"},
    )
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthRefused("GitHub gave no access token.")
    user = _provider_call(
        "GitHub",
        "GET",
        f"{settings.GITHUB_API_URL}/user",
        headers={
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    login, user_id = user.get("login"), user.get("id")
    if not isinstance(login, str) or not login or not isinstance(user_id, int):
        raise OAuthRefused("GitHub's user has no login.")
    return ProviderIdentity(id=str(user_id), name=login)


# --- Discord ----------------------------------------------------------------------------


def discord_authorize_url(*, state: str, redirect_uri: str, scope: str, **extra: str) -> str:
    _configured("DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET")
    query = {
        "client_id": settings.DISCORD_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        **extra,
    }
    return f"{settings.DISCORD_BASE_URL}/oauth2/authorize?{urlencode(query)}"


def discord_code_exchange(*, code: str, redirect_uri: str) -> dict[str, Any]:
    """Discord's token response: `access_token`, and for the bot scope the `guild` the bot
    was added to."""
    _configured("DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET")
    return _provider_call(
        "Discord",
        "POST",
        f"{settings.DISCORD_BASE_URL}/api/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        auth=(settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET),
        headers={"Accept": "application/json"},
    )


def discord_identity_fetch(*, code: str, redirect_uri: str) -> ProviderIdentity:
    token = discord_code_exchange(code=code, redirect_uri=redirect_uri)
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthRefused("Discord gave no access token.")
    user = _provider_call(
        "Discord",
        "GET",
        f"{settings.DISCORD_BASE_URL}/api/users/@me",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    user_id, name = user.get("id"), user.get("global_name") or user.get("username")
    if not isinstance(user_id, str) or not user_id.isdigit():
        raise OAuthRefused("Discord's user has no id.")
    return ProviderIdentity(id=user_id, name=str(name or user_id))
