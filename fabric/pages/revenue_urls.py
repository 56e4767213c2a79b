"""A listing's revenue page, under /fabric/ (the `fabric` namespace)."""

from __future__ import annotations

from django.urls import path

from fabric.pages import revenue

urlpatterns = [
    path("listings/<str:listing_id>/revenue/", revenue.listing_revenue, name="listing-revenue"),
    path(
        "listings/<str:listing_id>/revenue/verify",
        revenue.listing_revenue_verify,
        name="listing-revenue-verify",
    ),
    path(
        "listings/<str:listing_id>/revenue/stripe/disconnect",
        revenue.listing_stripe_disconnect,
        name="listing-stripe-disconnect",
    ),
]
