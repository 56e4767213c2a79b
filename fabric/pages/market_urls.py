"""/fabric/: the marketplace grid, a listing as its buyers see it, and its buyer access."""

from __future__ import annotations

from django.urls import path

from fabric.pages import market as views

urlpatterns = [
    path("", views.market_page, name="market"),
    path("listings/<uuid:listing_id>/", views.listing_page, name="listing"),
    path("listings/<uuid:listing_id>/access/", views.listing_access_page, name="listing-access"),
]
