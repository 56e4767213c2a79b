from django.urls import path

from fabric.api import listings

urlpatterns: list = [
    path("listings", listings.ListingListCreateView.as_view(), name="fabric-listings"),
    path("listings/<uuid:pk>", listings.ListingDetailView.as_view(), name="fabric-listing"),
    path(
        "listings/<uuid:pk>/publish",
        listings.ListingPublishView.as_view(),
        name="fabric-listing-publish",
    ),
    path(
        "listings/<uuid:pk>/withdraw",
        listings.ListingWithdrawView.as_view(),
        name="fabric-listing-withdraw",
    ),
    path(
        "listings/<uuid:pk>/assets",
        listings.ListingAssetsView.as_view(),
        name="fabric-listing-assets",
    ),
]
