"""/fabric/sell/…: the seller's pages of `fabric.pages.sell` (included by fabric/urls.py)."""

from __future__ import annotations

from django.urls import path

from fabric.pages import sell as views

urlpatterns = [
    path("", views.sell_home, name="sell"),
    path("new", views.sell_new, name="sell-new"),
    path("new/describe", views.sell_describe, name="sell-describe"),
    path("<uuid:listing_id>/", views.sell_listing, name="sell-listing"),
    path("<uuid:listing_id>/edit", views.sell_edit, name="sell-edit"),
    path("<uuid:listing_id>/assets", views.sell_assets, name="sell-assets"),
    path(
        "<uuid:listing_id>/assets/<uuid:asset_id>/remove",
        views.sell_asset_remove,
        name="sell-asset-remove",
    ),
    path("<uuid:listing_id>/preview", views.sell_preview, name="sell-preview"),
    path("<uuid:listing_id>/publish", views.sell_publish, name="sell-publish"),
    path("<uuid:listing_id>/withdraw", views.sell_withdraw, name="sell-withdraw"),
    path("<uuid:listing_id>/reopen", views.sell_reopen, name="sell-reopen"),
]
