"""DRF throttles over `rate_limit_take`: per API key, per user, per IP for anonymous
callers, and a tight per-IP one on the sign-in endpoints. A refusal is a 429 with
Retry-After."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiKey
from fabrknt.api.rate_limit import rate_limit_take
from fabrknt.security.client_ip import client_ip


class _BucketThrottle(BaseThrottle):
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
    def bucket(self, request) -> tuple[str, int]:
        limits = settings.RATE_LIMITS
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}", limits["api_key"]
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}", limits["user"]
        return f"ip:{client_ip(request)}", limits["anonymous"]


class SignInThrottle(_BucketThrottle):
    def bucket(self, request) -> tuple[str, int]:
        return f"sign-in:{client_ip(request)}", settings.RATE_LIMITS["sign_in"]
