"""/fabric/…: a listing's images (fabric.pages.media): the seller's page and the images."""

from __future__ import annotations

from django.urls import path

from fabric.pages import media as views

urlpatterns = [
    path("listings/<uuid:listing_id>/media/", views.media_page, name="listing-media"),
    path(
        "listings/<uuid:listing_id>/media/<uuid:media_id>/delete",
        views.media_delete_page,
        name="media-delete",
    ),
    path("media/<uuid:media_id>.webp", views.media_image, name="media-image"),
    path("media/<uuid:media_id>/original", views.media_original, name="media-original"),
]
