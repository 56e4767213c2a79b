"""/fabric/…: the escrow pages of `fabric.pages.escrow` (names in the `fabric` namespace)."""

from __future__ import annotations

from django.urls import path

from fabric.pages import escrow as views

urlpatterns = [
    path("deals/<uuid:escrow_id>/", views.deal_page, name="deal"),
    path("listings/<uuid:listing_id>/escrow/new/", views.escrow_new_page, name="escrow-new"),
]
