"""The data room on the local filesystem: upload (content sniffing, size limit,
idempotency), listing, delete, short-lived signed links and their downloads, the access
log, and who may do what (fabric.selectors.gated_listing)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import FileSystemStorage
from django.test import Client
from django.utils.dateparse import parse_datetime

from accounts.tests.clients import as_user
from fabric.models import DataRoomDocument, DataRoomDownload, DownloadKind, ListingStatus
from fabric.storage import dataroom_storage
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


def _post(user, listing, file, **fields):
    return as_user(user).post(
        f"/api/v1/listings/{listing.pk}/documents",
        {"file": file, **fields},
        format="multipart",
    )


def _stored() -> list[Path]:
    """The files under this test's MEDIA_ROOT (the `media_root` fixture)."""
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _ooxml(part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(f"{part}/document.xml", "<document/>")
    return out.getvalue()


def test_the_storage_is_the_named_local_one():
    assert isinstance(dataroom_storage(), FileSystemStorage)
    assert DataRoomDocument._meta.get_field("file").storage is dataroom_storage()


def test_seller_uploads_a_pdf_and_lists_it():
    w = world()
    response = _post(w.seller, w.listing, upload("Financials 2026.pdf", PDF), title="Financials")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == "Financials"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["filename"] == "Financials_2026.pdf"
    assert body["listing_id"] == str(w.listing.pk)
    document = DataRoomDocument.objects.get(pk=body["id"])
    assert document.uploaded_by == w.seller
    stored = _stored()
    assert len(stored) == 1 and stored[0].read_bytes() == PDF
    assert stored[0].parent.parent.name == str(w.listing.pk)

    listed = as_user(w.buyer).get(f"/api/v1/listings/{w.listing.pk}/documents")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert [d["id"] for d in listed.json()["results"]] == [body["id"]]


def test_the_same_content_again_is_the_same_document():
    w = world()
    first = _post(w.seller, w.listing, upload("a.pdf", PDF))
    again = _post(w.seller, w.listing, upload("b.pdf", PDF), title="Other title")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert DataRoomDocument.objects.count() == 1
    assert len(_stored()) == 1


@pytest.mark.parametrize(
    ("name", "content", "content_type", "filename"),
    [
        ("deck.png", image_bytes(40, 30), "image/png", "deck.png"),
        ("photo.jpeg", image_bytes(40, 30, "JPEG"), "image/jpeg", "photo.jpeg"),
        ("revenue.csv", b"month,usd\n2026-10,1200.00\n", "text/csv", "revenue.csv"),
        ("README.md", "# Moonbase\n\nÜber alles\n".encode(), "text/markdown", "README.md"),
        ("notes", b"plain notes\r\n", "text/plain", "notes.txt"),
        ("table.txt", b"a\tb\fc\r\n", "text/plain", "table.txt"),
        (
            "model.xlsx",
            _ooxml("xl"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "model.xlsx",
        ),
        (
            "contract.docx",
            _ooxml("word"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "contract.docx",
        ),
        # The content decides: a PNG named .pdf is a PNG, and is named as one.
        ("scan.pdf", image_bytes(20, 20), "image/png", "scan.pdf.png"),
    ],
)
def test_accepted_types_are_told_by_content(name, content, content_type, filename):
    w = world()
    response = _post(w.seller, w.listing, upload(name, content, "application/pdf"))
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == content_type
    assert response.json()["filename"] == filename


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", EXE),  # an executable renamed .pdf
        ("notes.txt", EXE),
        ("archive.docx", _ooxml("ppt")),  # a zip that is neither a workbook nor a document
        ("plain.zip", b"PK\x03\x04" + b"\x00" * 40),
        ("latin1.txt", "café".encode("latin-1")),
        ("control.txt", b"plain text\x01 with a control character"),
        ("empty.pdf", b""),
    ],
)
def test_other_content_is_refused_and_nothing_stored(name, content):
    w = world()
    response = _post(w.seller, w.listing, upload(name, content, "application/pdf"))
    assert response.status_code == 400
    assert "file" in response.json()
    assert DataRoomDocument.objects.count() == 0
    assert _stored() == []


def test_a_type_left_out_of_the_setting_is_refused(settings):
    settings.FABRIC_DOCUMENT_TYPES = ["pdf"]
    w = world()
    response = _post(w.seller, w.listing, upload("deck.png", image_bytes(20, 20)))
    assert response.status_code == 400
    message = "This file's content is not one of the accepted types (pdf)."
    assert response.json()["file"] == [message]


def test_over_the_size_limit_is_413_and_nothing_stored(settings):
    settings.FABRIC_DOCUMENT_MAX_BYTES = 1000
    w = world()
    big = PDF + b"%" * 1000
    response = _post(w.seller, w.listing, upload("big.pdf", big))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert DataRoomDocument.objects.count() == 0
    assert _stored() == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(settings):
    w = world()
    limit = settings.API_UPLOAD_BODY_LIMITS[r"/api/v1/listings/[^/]+/documents"]
    response = _post(w.seller, w.listing, upload("huge.pdf", PDF + b"%" * limit))
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"Request body is larger than this endpoint's {limit} bytes."
    )
    assert _stored() == []


def test_json_is_still_refused_on_the_upload_endpoint():
    w = world()
    response = as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/documents", {"title": "x"}, format="json"
    )
    assert response.status_code == 415
    assert DataRoomDocument.objects.count() == 0


def test_multipart_stays_refused_elsewhere_on_the_api():
    w = world()
    response = as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/documents/x", {"a": "b"}, format="multipart"
    )
    assert response.status_code == 415


def test_who_may_upload():
    w = world()
    stranger = _post(w.stranger, w.listing, upload("a.pdf", PDF))
    buyer = _post(w.buyer, w.listing, upload("a.pdf", PDF))
    viewer = _post(w.viewer, w.listing, upload("a.pdf", PDF))
    # Another organization's listing, even a visible one, is a 404 to its would-be writers.
    assert (stranger.status_code, buyer.status_code, viewer.status_code) == (404, 404, 403)
    assert DataRoomDocument.objects.count() == 0


def test_who_may_list():
    w = world()
    _post(w.seller, w.listing, upload("a.pdf", PDF))
    path = f"/api/v1/listings/{w.listing.pk}/documents"
    assert as_user(w.seller).get(path).status_code == 200
    assert as_user(w.viewer).get(path).status_code == 200
    assert as_user(w.buyer).get(path).json()["count"] == 1
    assert as_user(w.stranger).get(path).status_code == 403  # unsigned
    BuyerAccessFactory(listing=w.listing, wallet_address=w.buyer_wallet.address, revoked=True)
    assert as_user(w.buyer).get(path).status_code == 403
    draft = world(status=ListingStatus.DRAFT)
    assert as_user(w.buyer).get(f"/api/v1/listings/{draft.listing.pk}/documents").status_code == (
        404
    )
    assert as_user(w.buyer).get("/api/v1/listings/not-a-uuid/documents").status_code == 404


def _document(w) -> dict:
    response = _post(w.seller, w.listing, upload("Financials.pdf", PDF))
    assert response.status_code == 201
    return response.json()


def test_a_signer_downloads_through_a_short_lived_link(settings):
    w = world()
    document = _document(w)
    before = time.time()
    response = as_user(w.buyer).post(f"/api/v1/documents/{document['id']}/link")
    assert response.status_code == 200, response.json()
    link = response.json()
    assert link["url"].startswith("http://testserver/api/v1/documents/links/")
    expires = parse_datetime(link["expires_at"]).timestamp()
    assert before + 299 <= expires <= time.time() + 301
    issued = DataRoomDownload.objects.get()
    assert (issued.kind, issued.user, issued.wallet_address, issued.ip_address) == (
        DownloadKind.LINK,
        w.buyer,
        w.buyer_wallet.address,
        "127.0.0.1",
    )

    # No session or token: the link alone is enough.
    download = Client().get(link["url"].removeprefix("http://testserver"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="Financials.pdf"'
    assert download["Cache-Control"] == "private, no-store"
    served = DataRoomDownload.objects.filter(kind=DownloadKind.DOWNLOAD).get()
    assert (served.document_id, served.user, served.wallet_address) == (
        issued.document_id,
        w.buyer,
        w.buyer_wallet.address,
    )
    assert DataRoomDownload.objects.count() == 2


def test_the_seller_gets_links_too():
    w = world()
    document = _document(w)
    response = as_user(w.seller).post(f"/api/v1/documents/{document['id']}/link")
    assert response.status_code == 200
    assert DataRoomDownload.objects.get().wallet_address == w.seller_wallet.address


def test_who_may_get_a_link():
    w = world()
    document = _document(w)
    path = f"/api/v1/documents/{document['id']}/link"
    assert as_user(w.stranger).post(path).status_code == 403  # sees the listing, no NDA
    BuyerAccessFactory(listing=w.listing, wallet_address=w.buyer_wallet.address, revoked=True)
    assert as_user(w.buyer).post(path).status_code == 403
    other = world(visibility="private")
    private_document = _document(other)
    # A private listing is invisible to those not invited: 404, as unknown ids.
    private_link = f"/api/v1/documents/{private_document['id']}/link"
    assert as_user(w.buyer).post(private_link).status_code == 404
    assert as_user(w.buyer).post("/api/v1/documents/not-a-uuid/link").status_code == 404
    assert DataRoomDownload.objects.count() == 0


def test_a_link_expires(monkeypatch):
    w = world()
    document = _document(w)
    url = as_user(w.buyer).post(f"/api/v1/documents/{document['id']}/link").json()["url"]
    path = url.removeprefix("http://testserver")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 301)
    response = Client().get(path)
    assert response.status_code == 410
    assert response.json()["code"] == "expired"
    monkeypatch.setattr(time, "time", lambda: real_time() + 290)
    assert Client().get(path).status_code == 200
    assert DataRoomDownload.objects.filter(kind=DownloadKind.DOWNLOAD).count() == 1


def test_a_tampered_link_is_refused():
    w = world()
    document = _document(w)
    url = as_user(w.buyer).post(f"/api/v1/documents/{document['id']}/link").json()["url"]
    token = url.rsplit("/", 1)[1]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (forged, "x" + token, "garbage", "a:b:c"):
        response = Client().get(f"/api/v1/documents/links/{bad}")
        assert response.status_code == 400, bad
        assert response.json()["detail"] == "This download link is not valid."
    assert DataRoomDownload.objects.filter(kind=DownloadKind.DOWNLOAD).count() == 0


def test_a_deleted_document_is_gone_from_list_links_and_disk(
    django_capture_on_commit_callbacks,
):
    w = world()
    document = _document(w)
    url = as_user(w.buyer).post(f"/api/v1/documents/{document['id']}/link").json()["url"]
    path = f"/api/v1/listings/{w.listing.pk}/documents/{document['id']}"
    assert as_user(w.buyer).delete(path).status_code == 404
    assert as_user(w.viewer).delete(path).status_code == 403
    assert len(_stored()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(w.seller).delete(path)
    assert response.status_code == 204
    assert _stored() == []
    assert as_user(w.buyer).get(f"/api/v1/listings/{w.listing.pk}/documents").json()["count"] == 0
    assert Client().get(url.removeprefix("http://testserver")).status_code == 404
    assert as_user(w.buyer).post(f"/api/v1/documents/{document['id']}/link").status_code == 404
    assert as_user(w.seller).delete(path).status_code == 404
    row = DataRoomDocument.objects.get(pk=document["id"])
    assert row.deleted_at is not None and row.deleted_by == w.seller
    assert DataRoomDownload.objects.filter(document=row).count() == 1  # the log stays


def test_a_document_can_be_uploaded_again_after_its_deletion():
    w = world()
    document = _document(w)
    as_user(w.seller).delete(f"/api/v1/listings/{w.listing.pk}/documents/{document['id']}")
    again = _post(w.seller, w.listing, upload("Financials.pdf", PDF))
    assert again.status_code == 201
    assert again.json()["id"] != document["id"]


def test_the_list_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    w = world()
    for n in range(5):
        _post(w.seller, w.listing, upload(f"{n}.txt", f"document {n}".encode()))
    client = as_user(w.buyer)
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/listings/{w.listing.pk}/documents")
    assert response.json()["count"] == 5


def test_an_organization_key_uploads_with_write_and_reads_with_read():
    from accounts.services.api_keys import api_key_issue
    from accounts.tests.clients import as_key

    w = world()
    writer = api_key_issue(organization=w.organization, name="ci", scopes=["write"])
    reader = api_key_issue(organization=w.organization, name="bi", scopes=["read"])
    path = f"/api/v1/listings/{w.listing.pk}/documents"
    created = as_key(writer.key).post(path, {"file": upload("a.pdf", PDF)}, format="multipart")
    assert created.status_code == 201
    assert DataRoomDocument.objects.get().uploaded_by is None
    refused = as_key(reader.key).post(path, {"file": upload("b.pdf", PDF)}, format="multipart")
    assert refused.status_code == 403
    assert as_key(reader.key).get(path).json()["count"] == 1
    link = as_key(reader.key).post(f"/api/v1/documents/{created.json()['id']}/link")
    assert link.status_code == 200
    logged = DataRoomDownload.objects.get()
    assert (logged.user, logged.wallet_address) == (None, "")


def test_a_link_to_a_file_gone_from_the_disk_is_404_and_records_no_download(caplog):
    w = world()
    document = _document(w)
    url = as_user(w.buyer).post(f"/api/v1/documents/{document['id']}/link").json()["url"]
    stored = DataRoomDocument.objects.get(pk=document["id"])
    Path(stored.file.path).unlink()
    response = Client().get(url.removeprefix("http://testserver"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not DataRoomDownload.objects.filter(kind=DownloadKind.DOWNLOAD).exists()
    assert "is missing" in caplog.text
