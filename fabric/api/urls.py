from django.urls import path

from fabric.api import dataroom, media

urlpatterns: list = [
    path(
        "listings/<str:listing_id>/documents",
        dataroom.ListingDocumentsView.as_view(),
        name="fabric-documents",
    ),
    path(
        "listings/<str:listing_id>/documents/<str:document_id>",
        dataroom.ListingDocumentView.as_view(),
        name="fabric-document",
    ),
    path(
        "listings/<str:listing_id>/media",
        media.ListingMediaView.as_view(),
        name="fabric-media",
    ),
    path(
        "listings/<str:listing_id>/media/<str:media_id>",
        media.ListingMediaItemView.as_view(),
        name="fabric-media-item",
    ),
    path(
        "documents/links/<str:token>",
        dataroom.DocumentDownloadView.as_view(),
        name="fabric-document-download",
    ),
    path(
        "documents/<str:document_id>/link",
        dataroom.DocumentLinkView.as_view(),
        name="fabric-document-link",
    ),
]
