from django.urls import path

from fabric.api import (
    access,
    dataroom,
    escrow,
    listings,
    media,
    messages,
    nda,
    offers,
    proof_of_funds,
    revenue,
)
from fabric.api.suite import SuiteSummaryView

urlpatterns: list = [
    path("suite/summary/<str:listing_id>", SuiteSummaryView.as_view(), name="fabric-suite-summary"),
    path(
        "proof-of-funds/<str:wallet>",
        proof_of_funds.ProofOfFundsView.as_view(),
        name="fabric-proof-of-funds",
    ),
    path(
        "listings/<str:listing_id>/stripe",
        revenue.ListingStripeView.as_view(),
        name="fabric-listing-stripe",
    ),
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
    path("escrow/init", escrow.EscrowInitView.as_view(), name="fabric-escrow-init"),
    path("escrow/<str:escrow_id>", escrow.EscrowDetailView.as_view(), name="fabric-escrow"),
]
