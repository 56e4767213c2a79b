"""GitHub's REST API for the backfill: authentication (a token, or the App's installation
token from a JWT), pagination (the `Link` header) and rate limits (`X-RateLimit-*`,
`Retry-After`), as GitHub documents them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import requests
from django.conf import settings

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_ATTEMPTS = 6
# GitHub: a secondary rate limit without Retry-After means "wait at least a minute".
SECONDARY_LIMIT_WAIT = 60
# The App's JWT lives at most 10 minutes; its `iat` is set back for clock drift.
_JWT_LIFETIME = 540
_JWT_DRIFT = 60

Sleep = Callable[[float], None]


class GitHubApiError(Exception):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubRateLimited(GitHubApiError):
    """The limit resets later than the backfill is willing to wait: run it again then."""


def github_app_jwt(*, now: float | None = None) -> str:
    """A JWT that authenticates as the App (RS256 with GITHUB_APP_PRIVATE_KEY)."""
    issued = int(now if now is not None else time.time()) - _JWT_DRIFT
    claims = {"iat": issued, "exp": issued + _JWT_LIFETIME, "iss": settings.GITHUB_APP_ID}
    return jwt.encode(claims, settings.GITHUB_APP_PRIVATE_KEY, algorithm="RS256")


def github_app_configured() -> bool:
    return bool(settings.GITHUB_APP_ID and settings.GITHUB_APP_PRIVATE_KEY)


class GitHubClient:
    """Reads GitHub's REST API with one token (or none: public data at a low limit)."""

    def __init__(
        self,
        *,
        token: str = "",
        sleep: Sleep = time.sleep,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "fabrknt-pulse",
            }
        )
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.sleep = sleep
        self.progress = progress or (lambda message: None)
        self.requests = 0

    @classmethod
    def for_installation(
        cls,
        *,
        installation_id: int,
        sleep: Sleep = time.sleep,
        progress: Callable[[str], None] | None = None,
    ) -> GitHubClient:
        """A client with the installation's access token (made with the App's JWT)."""
        app = cls(token=github_app_jwt(), sleep=sleep, progress=progress)
        response = app.request("POST", f"/app/installations/{installation_id}/access_tokens")
        token = response.json().get("token") if isinstance(response.json(), dict) else None
        if not isinstance(token, str) or not token:
            raise GitHubApiError("GitHub gave no installation token")
        return cls(token=token, sleep=sleep, progress=progress)

    def request(
        self, method: str, path_or_url: str, params: dict[str, Any] | None = None
    ) -> requests.Response:
        url = (
            path_or_url if path_or_url.startswith("http") else settings.GITHUB_API_URL + path_or_url
        )
        if not url.startswith(settings.GITHUB_API_URL + "/"):
            # Never send the token anywhere but GitHub's API (a Link header could name any URL).
            raise GitHubApiError(f"refusing to follow a link outside the API: {url[:200]}")
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = self.session.request(
                    method, url, params=params, timeout=settings.GITHUB_API_TIMEOUT_SECONDS
                )
            except requests.RequestException as error:
                if attempt == MAX_ATTEMPTS - 1:
                    raise GitHubApiError(f"GitHub unreachable: {error}") from error
                self.sleep(2**attempt)
                continue
            self.requests += 1
            if _rate_limited(response):
                self._wait(_wait_seconds(response), "rate limited")
                continue
            if response.status_code >= 500 and attempt < MAX_ATTEMPTS - 1:
                self.sleep(2**attempt)
                continue
            if response.status_code >= 400:
                raise GitHubApiError(
                    f"GitHub answered {response.status_code} for {url[:200]}: {_message(response)}",
                    status=response.status_code,
                )
            if response.headers.get("X-RateLimit-Remaining") == "0":
                # The next call would be refused: wait for the window to reset first.
                self._wait(_reset_in(response), "rate limit used up")
            return response
        raise GitHubApiError(f"GitHub kept refusing {url[:200]}")

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
        """Each page of a list endpoint, following `Link: <…>; rel="next"`."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        while url:
            response = self.request("GET", url, params=query)
            items = response.json()
            if not isinstance(items, list):
                raise GitHubApiError(f"expected a list from {path}")
            yield items
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query

    def _wait(self, seconds: float, why: str) -> None:
        if seconds > settings.GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS:
            raise GitHubRateLimited(
                f"GitHub's rate limit resets in {int(seconds)} s: run the backfill again then"
            )
        self.progress(f"{why}: waiting {int(seconds)} s")
        self.sleep(seconds)


def _rate_limited(response: requests.Response) -> bool:
    if response.status_code == 429:
        return True
    return response.status_code == 403 and (
        "Retry-After" in response.headers or response.headers.get("X-RateLimit-Remaining") == "0"
    )


def _wait_seconds(response: requests.Response) -> float:
    retry_after = response.headers.get("Retry-After", "")
    if retry_after.isdigit():
        return float(retry_after)
    if response.headers.get("X-RateLimit-Remaining") == "0":
        return _reset_in(response)
    return SECONDARY_LIMIT_WAIT


def _reset_in(response: requests.Response) -> float:
    reset = response.headers.get("X-RateLimit-Reset", "")
    if not reset.isdigit():
        return SECONDARY_LIMIT_WAIT
    return max(0.0, int(reset) - time.time()) + 1


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""
