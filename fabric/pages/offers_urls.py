"""/fabric/…: the offers, messages and inbox pages (fabric.pages.offers, .messages)."""

from __future__ import annotations

from django.urls import path

from fabric.pages import messages, offers

urlpatterns = [
    path("inbox/", offers.inbox_page, name="inbox"),
    path("listings/<uuid:listing_id>/offers/", offers.listing_offers_page, name="listing-offers"),
    path(
        "listings/<uuid:listing_id>/messages/",
        messages.listing_messages_page,
        name="listing-messages",
    ),
    path("offers/<uuid:offer_id>/", offers.offer_page, name="offer"),
    path("offers/<uuid:offer_id>/counter", offers.offer_counter_page, name="offer-counter"),
    *[
        path(
            f"offers/<uuid:offer_id>/{action}",
            offers.offer_act_page,
            {"action": action},
            name=f"offer-{action}",
        )
        for action in offers.ACTIONS
    ],
]
