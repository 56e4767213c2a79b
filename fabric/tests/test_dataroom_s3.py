"""The data room on S3: the same API against a real S3-compatible server (moto's server
mode, started here on a free port), never a mock object. Uploads land in the bucket, and
a presigned link fetched over HTTP returns the bytes as an attachment."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator

import boto3
import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.storage import FileSystemStorage
from django.test import Client
from moto.server import ThreadedMotoServer
from PIL import Image

from accounts.tests.clients import as_user
from fabric.models import DataRoomDocument, DataRoomDownload, DownloadKind, ListingMedia
from fabric.storage import dataroom_storage, media_storage
from fabric.tests.dataroom_support import (
    EXE,
    PDF,
    image_bytes,
    media_root,  # noqa: F401 (autouse fixture: nothing may land on disk either)
    upload,
    world,
)
from fabrknt.settings import s3_storage

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

BUCKET = "fabrknt-dataroom-test"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """An empty bucket on the local server, with STORAGES pointing the data room and the
    media at it as production's settings would (fabrknt.settings.s3_storage)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    storage = {
        "bucket": BUCKET,
        "endpoint_url": s3_endpoint,
        "region": REGION,
        "addressing_style": "path",
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "dataroom": s3_storage(**storage, presigned_seconds=300),
        "media": s3_storage(**storage, presigned_seconds=3600),
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_the_fields_follow_the_storages_setting(bucket):
    assert not isinstance(dataroom_storage(), FileSystemStorage)
    assert dataroom_storage().bucket_name == BUCKET
    assert media_storage().bucket_name == BUCKET


def test_upload_then_a_presigned_link_returns_the_bytes(bucket):
    w = world()
    response = as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/documents",
        {"file": upload("Cap table.pdf", PDF), "title": "Cap table"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    document = DataRoomDocument.objects.get(pk=response.json()["id"])
    assert _keys(bucket) == [document.file.name]
    assert document.file.name.startswith(f"dataroom/{w.listing.pk}/")
    stored = bucket.get_object(Bucket=BUCKET, Key=document.file.name)["Body"].read()
    assert stored == PDF

    link = as_user(w.buyer).post(f"/api/v1/documents/{document.pk}/link")
    assert link.status_code == 200, link.json()
    url = link.json()["url"]
    assert url.startswith(f"{django_settings.STORAGES['dataroom']['OPTIONS']['endpoint_url']}/")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url

    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == PDF
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="Cap_table.pdf"'
    # The bucket serves the file itself: the link handed out is the access log's record.
    logged = DataRoomDownload.objects.get()
    assert (logged.kind, logged.user, logged.wallet_address) == (
        DownloadKind.LINK,
        w.buyer,
        w.buyer_wallet.address,
    )


def test_the_object_is_private_without_the_signature(bucket):
    w = world()
    as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/documents",
        {"file": upload("a.pdf", PDF)},
        format="multipart",
    )
    document = DataRoomDocument.objects.get()
    url = as_user(w.buyer).post(f"/api/v1/documents/{document.pk}/link").json()["url"]
    assert requests.get(url, timeout=10).status_code == 200
    assert requests.get(url.split("?", 1)[0], timeout=10).status_code == 403


def test_a_refused_upload_puts_nothing_in_the_bucket(bucket):
    w = world()
    response = as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/documents",
        {"file": upload("invoice.pdf", EXE)},
        format="multipart",
    )
    assert response.status_code == 400
    assert _keys(bucket) == []
    assert DataRoomDocument.objects.count() == 0


def test_delete_removes_the_object(bucket, django_capture_on_commit_callbacks):
    w = world()
    created = as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/documents",
        {"file": upload("a.pdf", PDF)},
        format="multipart",
    )
    assert len(_keys(bucket)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(w.seller).delete(
            f"/api/v1/listings/{w.listing.pk}/documents/{created.json()['id']}"
        )
    assert response.status_code == 204
    assert _keys(bucket) == []


def test_listing_images_go_to_the_bucket_and_are_served_by_presigned_redirect(bucket):
    w = world()
    response = as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/media",
        {"file": upload("shot.png", image_bytes(900, 500)), "kind": "screenshot"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    media = ListingMedia.objects.get()
    assert sorted(_keys(bucket)) == sorted([media.original.name, media.webp.name])
    served = Client().get(f"/fabric/media/{media.pk}.webp")
    assert served.status_code == 302
    assert served["Location"].startswith(f"{bucket.meta.endpoint_url}/{BUCKET}/listings/")
    fetched = requests.get(served["Location"], timeout=10)
    assert fetched.status_code == 200
    assert Image.open(io.BytesIO(fetched.content)).size == (900, 500)


def test_the_data_room_page_hands_out_the_presigned_link(bucket):
    """A form may lead only to this site (CSP form-action 'self'): with a bucket, the page
    shows the presigned link to follow instead of redirecting to it."""
    w = world()
    as_user(w.seller).post(
        f"/api/v1/listings/{w.listing.pk}/documents",
        {"file": upload("Plan.pdf", PDF)},
        format="multipart",
    )
    document = DataRoomDocument.objects.get()
    client = Client()
    client.force_login(w.buyer)
    page = client.post(f"/fabric/listings/{w.listing.pk}/dataroom/{document.pk}/download")
    assert page.status_code == 200
    link = page.context["link"]
    assert link.url.startswith(f"{bucket.meta.endpoint_url}/{BUCKET}/dataroom/")
    assert f'href="{link.url.replace("&", "&amp;")}"' in page.content.decode()
    assert requests.get(link.url, timeout=10).content == PDF
