"""/fabric/…: the data room's pages (fabric.pages.dataroom)."""

from __future__ import annotations

from django.urls import path

from fabric.pages import dataroom as views

urlpatterns = [
    path("listings/<uuid:listing_id>/dataroom/", views.room_page, name="dataroom"),
    path(
        "listings/<uuid:listing_id>/dataroom/<uuid:document_id>/download",
        views.download,
        name="dataroom-download",
    ),
    path(
        "listings/<uuid:listing_id>/dataroom/manage/",
        views.manage_page,
        name="dataroom-manage",
    ),
    path(
        "listings/<uuid:listing_id>/dataroom/manage/<uuid:document_id>/delete",
        views.delete_page,
        name="dataroom-delete",
    ),
]
