"""The data room's and the images' pages with Django's test client: the seller uploads
with a plain form, lists, deletes and reads the access log; the buyer who signed the NDA
downloads through a short-lived link; everyone else is refused as the API refuses them.
The admin's read-only views."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from fabric.models import DataRoomDocument, DataRoomDownload, DownloadKind, ListingMedia
from fabric.services.dataroom import document_upload
from fabric.tests.dataroom_support import (
    EXE,
    PDF,
    image_bytes,
    media_root,  # noqa: F401 (autouse fixture)
    upload,
    world,
)
from fabric.tests.factories import BuyerAccessFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _stored() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _manage(w) -> str:
    return reverse("fabric:dataroom-manage", args=[w.listing.pk])


def test_the_seller_uploads_through_the_form_and_sees_it_listed():
    w = world()
    client = _client(w.seller)
    empty = client.get(_manage(w))
    assert empty.status_code == 200
    assert b"No documents yet" in empty.content
    assert b'enctype="multipart/form-data"' in empty.content
    response = client.post(_manage(w), {"file": upload("Q3 report.pdf", PDF), "title": "Q3 report"})
    assert response.status_code == 303
    assert response["Location"] == _manage(w)
    document = DataRoomDocument.objects.get()
    assert (document.title, document.uploaded_by) == ("Q3 report", w.seller)
    page = client.get(_manage(w))
    assert "“Q3 report” is in the data room." in page.content.decode()
    assert f'data-testid="document-{document.pk}"'.encode() in page.content
    assert b"Q3_report.pdf" in page.content


def test_a_refused_upload_shows_why_and_stores_nothing():
    w = world()
    response = _client(w.seller).post(_manage(w), {"file": upload("invoice.pdf", EXE)})
    assert response.status_code == 400
    assert "This file&#x27;s content is not one of the accepted types" in response.content.decode()
    assert DataRoomDocument.objects.count() == 0
    assert _stored() == []


def test_a_page_upload_over_the_limit_is_413_before_it_is_read(settings):
    settings.FABRIC_DOCUMENT_MAX_BYTES = 100
    w = world()
    big = PDF + b"%" * (100 + settings.MULTIPART_OVERHEAD)
    response = _client(w.seller).post(_manage(w), {"file": upload("big.pdf", big)})
    assert response.status_code == 413
    assert "That file is too large: at most 100\xa0bytes." in response.content.decode()
    assert DataRoomDocument.objects.count() == 0
    assert _stored() == []


def test_the_manage_page_is_for_the_sellers_writers():
    w = world()
    assert _client(w.viewer).get(_manage(w)).status_code == 403
    assert _client(w.buyer).get(_manage(w)).status_code == 404
    assert _client(w.buyer).post(_manage(w), {"file": upload("a.pdf", PDF)}).status_code == 404
    anonymous = Client().get(_manage(w))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/signin")
    assert DataRoomDocument.objects.count() == 0


def test_the_seller_deletes_after_confirming(django_capture_on_commit_callbacks):
    w = world()
    document = document_upload(listing=w.listing, upload=upload("a.pdf", PDF)).document
    path = reverse("fabric:dataroom-delete", args=[w.listing.pk, document.pk])
    client = _client(w.seller)
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert b"Delete this document?" in confirm.content
    assert _client(w.viewer).post(path).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 303 and response["Location"] == _manage(w)
    document.refresh_from_db()
    assert document.deleted_at is not None
    assert _stored() == []
    assert client.get(path).status_code == 404


def test_the_buyer_downloads_from_the_data_room_page():
    w = world()
    document = document_upload(listing=w.listing, upload=upload("Cap table.pdf", PDF)).document
    client = _client(w.buyer)
    room = client.get(reverse("fabric:dataroom", args=[w.listing.pk]))
    assert room.status_code == 200
    assert b"Cap_table.pdf" in room.content
    download = reverse("fabric:dataroom-download", args=[w.listing.pk, document.pk])
    assert client.get(download).status_code == 405
    response = client.post(download)
    assert response.status_code == 303
    assert response["Location"].startswith("/api/v1/documents/links/")
    served = Client().get(response["Location"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PDF
    assert list(DataRoomDownload.objects.order_by("created_at").values_list("kind", "user")) == [
        (DownloadKind.LINK, w.buyer.pk),
        (DownloadKind.DOWNLOAD, w.buyer.pk),
    ]
    log = _client(w.seller).get(_manage(w)).content.decode()
    assert w.buyer_wallet.address in log and "File served" in log and "Link issued" in log


def test_the_data_room_page_is_gated():
    w = world()
    document = document_upload(listing=w.listing, upload=upload("a.pdf", PDF)).document
    room = reverse("fabric:dataroom", args=[w.listing.pk])
    download = reverse("fabric:dataroom-download", args=[w.listing.pk, document.pk])
    assert _client(w.stranger).get(room).status_code == 403
    assert _client(w.stranger).post(download).status_code == 403
    BuyerAccessFactory(listing=w.listing, wallet_address=w.buyer_wallet.address, revoked=True)
    assert _client(w.buyer).get(room).status_code == 403
    assert _client(w.buyer).post(download).status_code == 403
    other = world(visibility="private")
    assert _client(w.stranger).get(
        reverse("fabric:dataroom", args=[other.listing.pk])
    ).status_code == (404)
    # A document of another listing, through this listing's URL.
    other_document = document_upload(listing=other.listing, upload=upload("b.pdf", PDF)).document
    crossed = reverse("fabric:dataroom-download", args=[other.listing.pk, document.pk])
    assert _client(other.seller).post(crossed).status_code == 404
    assert other_document.pk != document.pk
    assert DataRoomDownload.objects.count() == 0
    seller_view = _client(w.seller).get(room)
    assert seller_view.status_code == 200
    assert b"Buyer's view of the data room" in seller_view.content


def test_the_empty_data_room_says_so():
    w = world()
    page = _client(w.buyer).get(reverse("fabric:dataroom", args=[w.listing.pk]))
    assert b"The seller has not added documents yet." in page.content


def test_the_seller_uploads_images_and_sees_previews(django_capture_on_commit_callbacks):
    w = world()
    path = reverse("fabric:listing-media", args=[w.listing.pk])
    client = _client(w.seller)
    assert b"No logo yet" in client.get(path).content
    response = client.post(
        path, {"kind": "screenshot", "file": upload("shot.png", image_bytes(900, 500))}
    )
    assert response.status_code == 303
    media = ListingMedia.objects.get()
    page = client.get(path).content.decode()
    assert f'src="/fabric/media/{media.pk}.webp" width="900" height="500"' in page
    refused = client.post(path, {"kind": "logo", "file": upload("tiny.png", image_bytes(50, 50))})
    assert refused.status_code == 400
    assert "at least 128×128 px" in refused.content.decode()
    delete = reverse("fabric:media-delete", args=[w.listing.pk, media.pk])
    assert client.get(delete).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(delete).status_code == 303
    assert ListingMedia.objects.count() == 0
    assert _stored() == []
    assert _client(w.viewer).get(path).status_code == 403
    assert _client(w.buyer).get(path).status_code == 404


def test_the_admin_shows_documents_and_the_access_log_read_only():
    w = world()
    document = document_upload(listing=w.listing, upload=upload("a.pdf", PDF)).document
    DataRoomDownload.objects.create(document=document, user=w.buyer, wallet_address="0xabc")
    staff = get_user_model().objects.create_superuser(username="ops", password="x" * 20)
    client = _client(staff)
    for name in ("dataroomdocument", "dataroomdownload", "listingmedia"):
        changelist = client.get(reverse(f"admin:fabric_{name}_changelist"))
        assert changelist.status_code == 200, name
        assert client.get(reverse(f"admin:fabric_{name}_add")).status_code == 403
    detail = client.get(reverse("admin:fabric_dataroomdocument_change", args=[document.pk]))
    assert detail.status_code == 200 and b"0xabc" in detail.content
