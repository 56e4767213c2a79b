from django.urls import path

from fabric.api import messages, offers

urlpatterns: list = [
    path(
        "listings/<str:listing_id>/offers",
        offers.ListingOffersView.as_view(),
        name="fabric-listing-offers",
    ),
    path("offers/<str:offer_id>", offers.OfferDetailView.as_view(), name="fabric-offer"),
    path(
        "offers/<str:offer_id>/accept", offers.OfferAcceptView.as_view(), name="fabric-offer-accept"
    ),
    path(
        "offers/<str:offer_id>/decline",
        offers.OfferDeclineView.as_view(),
        name="fabric-offer-decline",
    ),
    path(
        "offers/<str:offer_id>/counter",
        offers.OfferCounterView.as_view(),
        name="fabric-offer-counter",
    ),
    path(
        "offers/<str:offer_id>/withdraw",
        offers.OfferWithdrawView.as_view(),
        name="fabric-offer-withdraw",
    ),
    path(
        "listings/<str:listing_id>/messages",
        messages.ListingMessagesView.as_view(),
        name="fabric-listing-messages",
    ),
]
