from django.urls import path

from fabric.api import access, nda

urlpatterns: list = [
    path("nda/sign", nda.NDASignView.as_view(), name="fabric-nda-sign"),
    path("nda/<str:listing_id>/message", nda.NDAMessageView.as_view(), name="fabric-nda-message"),
    path(
        "listings/<str:listing_id>/access",
        access.ListingAccessView.as_view(),
        name="fabric-listing-access",
    ),
    path(
        "listings/<str:listing_id>/access/revoke",
        access.ListingAccessRevokeView.as_view(),
        name="fabric-listing-access-revoke",
    ),
    path(
        "listings/<str:listing_id>/access/restore",
        access.ListingAccessRestoreView.as_view(),
        name="fabric-listing-access-restore",
    ),
]
