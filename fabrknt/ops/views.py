"""Probes for load balancers and orchestrators: plain Django views, not rate limited and
exempt from the SSL redirect (settings.SECURE_REDIRECT_EXEMPT)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from fabrknt.ops.health import DOWN, REQUIRED, readiness_checks


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests. Touches nothing else on purpose."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness, naming every component that is down: 503 without the database, else 200,
    "degraded" while the platform serves without the cache or the broker."""
    checks = readiness_checks()
    down = [name for name, state in checks.items() if state == DOWN]
    if REQUIRED.intersection(down):
        return JsonResponse({"status": "unavailable", "down": down, "checks": checks}, status=503)
    if down:
        return JsonResponse({"status": "degraded", "down": down, "checks": checks})
    return JsonResponse({"status": "ok", "checks": checks})
