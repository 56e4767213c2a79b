"""DRF throttles over `rate_limit_take`: per API key, per user, per IP for anonymous
callers, and a tight per-IP one on the sign-in endpoints. A refusal is a 429 with
Retry-After (DRF sets the header from `wait()`). DefaultThrottle also counts the requests
of `read` and `write` keys against their daily quota (`fabrknt.api.quota`).

The first bucket throttle of a request made with a held API key (see
`fabrknt.api.authentication`) confirms the key: its token is taken by a script that refuses
while the key's revocation marker exists, in the same round trip. A refused, or
unconfirmable (Redis failing), held key is looked up again as on a first request.

A signed-in person's token from the first throttle's bucket is taken by the round trip that
reads their session (accounts/sessions.py, `signed_in_bucket`), and used from there."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiKey
from accounts.read_ahead import WantedToken, token_read_ahead
from accounts.services.api_keys import api_key_release, api_key_revoked_marker
from fabrknt.api.authentication import API_KEY_HEADER, ApiKeyPrincipal, api_key_authenticated
from fabrknt.api.quota import api_key_daily_quota, quota_exceeded, quota_headers
from fabrknt.api.rate_limit import DailyQuota, Decision, rate_limit_take, rate_limit_take_unless
from fabrknt.redis_backoff import REDIS_ERRORS, redis_failed
from fabrknt.security.client_ip import client_network


class _BucketThrottle(BaseThrottle):
    _retry_after = 0

    def bucket(self, request) -> tuple[str, int]:
        raise NotImplementedError

    def quota(self, request) -> DailyQuota | None:
        """The daily quota this request counts against, beside its bucket."""
        return None

    @classmethod
    def signed_in_bucket(cls) -> WantedToken | None:
        """The bucket a signed-in person's requests take from (their id after `prefix`),
        whose token the round trip that reads their session takes (accounts/sessions.py);
        None when it is not theirs alone."""
        return None

    def allow_request(self, request, view) -> bool:
        key, per_minute = self.bucket(request)
        quota = self.quota(request)
        decision = token_read_ahead(key) if quota is None else None
        if decision is None:
            decision = _take_confirming_held_key(request, key, per_minute, quota)
        if decision is None:
            decision = rate_limit_take(key, per_minute, quota=quota)
        self._retry_after = decision.retry_after
        usage = decision.quota
        if usage is not None:
            view.headers.update(quota_headers(usage))
            if not decision.allowed and usage.remaining == 0:
                # Over the quota (a refusal by the bucket leaves some of it: it is checked
                # first): its own code and detail, Retry-After until midnight UTC.
                raise quota_exceeded(usage, wait=decision.retry_after)
        return decision.allowed

    def wait(self) -> float:
        return self._retry_after


def signed_in_bucket(view) -> WantedToken | None:
    """The bucket of `view`'s first throttle for a signed-in person, if it has one."""
    throttles = view.throttle_classes
    if throttles and issubclass(throttles[0], _BucketThrottle):
        return throttles[0].signed_in_bucket()
    return None


def confirms_held_keys(view) -> bool:
    """Whether `view` runs a bucket throttle on every request (which confirms held keys)."""
    return any(issubclass(throttle, _BucketThrottle) for throttle in view.throttle_classes)


def _take_confirming_held_key(
    request, key: str, per_minute: int, quota: DailyQuota | None
) -> Decision | None:
    """For a request whose API key is held and not yet confirmed: the token taken in the
    round trip that confirms the key is not revoked. None when there is no such key, or when
    it was looked up again instead (then the caller takes the token as usual); 401 when the
    lookup finds it revoked."""
    principal = request.user
    if not isinstance(principal, ApiKeyPrincipal) or not principal.held:
        return None
    api_key = principal.api_key
    principal.held = False
    if per_minute > 0:
        try:
            decision = rate_limit_take_unless(
                key, per_minute, refused_if=api_key_revoked_marker(api_key=api_key), quota=quota
            )
        except REDIS_ERRORS as error:
            redis_failed(error, during="rate limiting")
        else:
            if decision is not None:
                return decision
            api_key_release(api_key=api_key)  # revoked (or being revoked) since it was held
    # Unconfirmed: look the key up as on a first request (401 when revoked), and let the
    # caller take the token.
    confirmed, _ = api_key_authenticated(request.META[API_KEY_HEADER])
    principal.api_key = confirmed.api_key
    return None


class DefaultThrottle(_BucketThrottle):
    """Every API endpoint: per key, else per user, else per client network; a `read` or
    `write` key's requests also count against its daily quota."""

    @classmethod
    def signed_in_bucket(cls) -> WantedToken:
        return WantedToken("user:", settings.RATE_LIMITS["user"])

    def bucket(self, request) -> tuple[str, int]:
        limits = settings.RATE_LIMITS
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}", limits["api_key"]
        if request.user and request.user.is_authenticated:
            signed_in = self.signed_in_bucket()
            return f"{signed_in.prefix}{request.user.pk}", signed_in.per_minute
        return f"ip:{client_network(request)}", limits["anonymous"]

    def quota(self, request) -> DailyQuota | None:
        if isinstance(request.auth, ApiKey):
            return api_key_daily_quota(request.auth)
        return None


class SignInThrottle(_BucketThrottle):
    """Nonce and sign-in endpoints: a tight per-network budget against signature spraying."""

    def bucket(self, request) -> tuple[str, int]:
        return f"sign-in:{client_network(request)}", settings.RATE_LIMITS["sign_in"]


class IngestThrottle(_BucketThrottle):
    """High-volume ingest endpoints (clicks): a large budget per key (or user, or network)
    in place of DefaultThrottle's."""

    @classmethod
    def signed_in_bucket(cls) -> WantedToken:
        return WantedToken("ingest:user:", settings.RATE_LIMITS["ingest"])

    def bucket(self, request) -> tuple[str, int]:
        limit = settings.RATE_LIMITS["ingest"]
        if isinstance(request.auth, ApiKey):
            return f"ingest:key:{request.auth.pk}", limit
        if request.user and request.user.is_authenticated:
            return f"{self.signed_in_bucket().prefix}{request.user.pk}", limit
        return f"ingest:ip:{client_network(request)}", limit


class DomainVerificationThrottle(_BucketThrottle):
    """Landing-domain checks, in addition to DefaultThrottle: each makes us fetch from a
    host the caller names, so a caller gets a handful a minute."""

    def bucket(self, request) -> tuple[str, int]:
        limit = settings.RATE_LIMITS["domain_verification"]
        if isinstance(request.auth, ApiKey):
            return f"domain-verification:key:{request.auth.pk}", limit
        return f"domain-verification:user:{request.user.pk}", limit
