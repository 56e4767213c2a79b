"""Probes for load balancers and orchestrators: plain Django views, not rate limited and
exempt from the SSL redirect (settings.SECURE_REDIRECT_EXEMPT)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from fabrknt.ops.health import DOWN, readiness_checks


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests. Touches nothing else on purpose."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 naming every component that is down."""
    checks = readiness_checks()
    down = [name for name, state in checks.items() if state == DOWN]
    if down:
        return JsonResponse({"status": "unavailable", "down": down, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
