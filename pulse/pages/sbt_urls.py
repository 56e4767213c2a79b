"""/pulse/…: the soulbound token pages of `pulse.pages.sbt`."""

from __future__ import annotations

from django.urls import path

from pulse.api.sbt_views import token_image
from pulse.pages import sbt as views

app_name = "pulse_sbt"

urlpatterns = [
    path(
        "teams/<str:pulse_id>/contributors/<uuid:contributor_id>/tokens",
        views.tokens_page,
        name="tokens",
    ),
    # Public: the image of a token's metadata (wallets and explorers fetch it).
    path(
        "sbt/<str:chain>/<str:address>/<int:token_id>/image.svg",
        token_image,
        name="image",
    ),
]
