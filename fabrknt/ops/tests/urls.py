"""The platform's URLs, and a view that leaks everything it is given into the logs: the
redaction test's worst case (a careless debug line, an exception quoting a request)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from fabrknt.urls import urlpatterns as platform_urlpatterns

logger = logging.getLogger(__name__)

SECRET_SETTINGS = [
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "CERTIFICATE_SIGNING_KEY",
    "CHAIN_SIGNER_KEY",
    "ALCHEMY_WEBHOOK_SIGNING_KEY",
    "GITHUB_WEBHOOK_SECRET",
    "HELIUS_WEBHOOK_AUTH",
    "DISCORD_RELAY_SIGNING_KEY",
]


@csrf_exempt
def leaky(request: HttpRequest) -> HttpResponse:
    signed_in = request.user.is_authenticated  # as any view asks
    logger.warning(
        "Request as received (signed in: %s)", signed_in, extra={"headers": dict(request.headers)}
    )
    configured = {name: getattr(settings, name) for name in SECRET_SETTINGS}
    raise RuntimeError(f"Leaky failure: {request.META!r} {request.body!r} {configured!r}")


urlpatterns = [path("leaky", leaky), *platform_urlpatterns]
