"""DRF throttles over `rate_limit_take`: per API key, per user, per IP for anonymous
callers, and a tight per-IP one on the sign-in endpoints. A refusal is a 429 with
Retry-After (DRF sets the header from `wait()`)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiKey
from fabrknt.api.rate_limit import rate_limit_take
from fabrknt.security.client_ip import client_network


class _BucketThrottle(BaseThrottle):
    _retry_after = 0

    def bucket(self, request) -> tuple[str, int]:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        key, per_minute = self.bucket(request)
        decision = rate_limit_take(key, per_minute)
        self._retry_after = decision.retry_after
        return decision.allowed

    def wait(self) -> float:
        return self._retry_after


class DefaultThrottle(_BucketThrottle):
    """Every API endpoint: per key, else per user, else per client network."""

    def bucket(self, request) -> tuple[str, int]:
        limits = settings.RATE_LIMITS
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}", limits["api_key"]
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}", limits["user"]
        return f"ip:{client_network(request)}", limits["anonymous"]


class SignInThrottle(_BucketThrottle):
    """Nonce and sign-in endpoints: a tight per-network budget against signature spraying."""

    def bucket(self, request) -> tuple[str, int]:
        return f"sign-in:{client_network(request)}", settings.RATE_LIMITS["sign_in"]


class IngestThrottle(_BucketThrottle):
    """High-volume ingest endpoints (clicks): a large budget per key (or user, or network)
    in place of DefaultThrottle's."""

    def bucket(self, request) -> tuple[str, int]:
        limit = settings.RATE_LIMITS["ingest"]
        if isinstance(request.auth, ApiKey):
            return f"ingest:key:{request.auth.pk}", limit
        if request.user and request.user.is_authenticated:
            return f"ingest:user:{request.user.pk}", limit
        return f"ingest:ip:{client_network(request)}", limit


class DomainVerificationThrottle(_BucketThrottle):
    """Landing-domain checks, in addition to DefaultThrottle: each makes us fetch from a
    host the caller names, so a caller gets a handful a minute."""

    def bucket(self, request) -> tuple[str, int]:
        limit = settings.RATE_LIMITS["domain_verification"]
        if isinstance(request.auth, ApiKey):
            return f"domain-verification:key:{request.auth.pk}", limit
        return f"domain-verification:user:{request.user.pk}", limit
