"""Listing images with real images made by Pillow: checked, EXIF stripped, resized,
converted to WebP with the original kept; the API's upload, list and delete; the images
served to whoever may see the listing."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image

from accounts.tests.clients import as_user
from fabric.models import ListingMedia, ListingStatus
from fabric.tests.dataroom_support import (
    EXE,
    image_bytes,
    media_root,  # noqa: F401 (autouse fixture)
    upload,
    world,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _post(user, listing, content: bytes, kind: str, name: str = "image.png"):
    return as_user(user).post(
        f"/api/v1/listings/{listing.pk}/media",
        {"file": upload(name, content), "kind": kind},
        format="multipart",
    )


def _stored() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _opened(field) -> Image.Image:
    with field.open("rb") as stored:
        return Image.open(io.BytesIO(stored.read()))


def _jpeg_with_exif(width: int, height: int, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (35.0, 39.0, 0.0)}  # GPS: where the photo was taken
    return image_bytes(width, height, "JPEG", exif=exif.tobytes())


def test_a_screenshot_is_resized_to_webp_and_the_original_kept():
    w = world()
    response = _post(w.seller, w.listing, image_bytes(2400, 1200), "screenshot")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["width"], body["height"], body["position"]) == (
        "screenshot",
        1600,
        800,
        0,
    )
    assert body["url"] == f"http://testserver/fabric/media/{body['id']}.webp"
    media = ListingMedia.objects.get(pk=body["id"])
    webp = _opened(media.webp)
    assert (webp.format, webp.size) == ("WEBP", (1600, 800))
    original = _opened(media.original)
    assert (original.format, original.size) == ("PNG", (2400, 1200))
    assert media.original.name.endswith("/original.png")
    assert len(_stored()) == 2


def test_a_small_screenshot_is_not_enlarged_and_positions_follow():
    w = world()
    first = _post(w.seller, w.listing, image_bytes(800, 450), "screenshot").json()
    second = _post(w.seller, w.listing, image_bytes(801, 450), "screenshot").json()
    assert (first["width"], first["height"], first["position"]) == (800, 450, 0)
    assert second["position"] == 1


def test_a_logo_is_cropped_square_and_at_most_512():
    w = world()
    body = _post(w.seller, w.listing, image_bytes(1200, 900, "JPEG"), "logo", "logo.jpg").json()
    assert (body["width"], body["height"]) == (512, 512)
    media = ListingMedia.objects.get(pk=body["id"])
    assert _opened(media.webp).size == (512, 512)
    assert _opened(media.original).format == "JPEG"
    small = _post(w.seller, w.listing, image_bytes(200, 300), "logo").json()
    assert (small["width"], small["height"]) == (200, 200)


def test_a_new_logo_replaces_the_old_one(django_capture_on_commit_callbacks):
    w = world()
    first = _post(w.seller, w.listing, image_bytes(300, 300), "logo").json()
    with django_capture_on_commit_callbacks(execute=True):
        second = _post(w.seller, w.listing, image_bytes(400, 400), "logo").json()
    assert list(ListingMedia.objects.values_list("pk", flat=True)) == [
        ListingMedia.objects.get(pk=second["id"]).pk
    ]
    assert first["id"] != second["id"]
    assert len(_stored()) == 2


def test_exif_is_stripped_and_orientation_applied():
    w = world()
    # Orientation 6: the camera was turned; the upright picture is 480 wide, 800 high.
    body = _post(
        w.seller, w.listing, _jpeg_with_exif(800, 480, orientation=6), "screenshot", "p.jpg"
    )
    assert body.status_code == 400  # upright it is 480 px wide: under the 640 px minimum
    body = _post(w.seller, w.listing, _jpeg_with_exif(1000, 700), "screenshot", "p.jpg").json()
    media = ListingMedia.objects.get(pk=body["id"])
    for field in (media.original, media.webp):
        image = _opened(field)
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
    with media.original.open("rb") as stored:
        assert b"SecretCam" not in stored.read()


def test_a_webp_upload_is_accepted():
    w = world()
    response = _post(w.seller, w.listing, image_bytes(700, 400, "WEBP"), "screenshot", "s.webp")
    assert response.status_code == 201
    media = ListingMedia.objects.get()
    assert media.original.name.endswith("/original.webp")


def test_the_same_image_again_is_the_same_media():
    w = world()
    content = image_bytes(700, 400)
    first = _post(w.seller, w.listing, content, "screenshot")
    again = _post(w.seller, w.listing, content, "screenshot")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert ListingMedia.objects.count() == 1
    assert len(_stored()) == 2


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (EXE, "logo.png", "The file is not a PNG, JPEG or WebP image."),
        (image_bytes(700, 400, "GIF"), "a.gif", "The file is not a PNG, JPEG or WebP image."),
        (b"%PDF-1.7\n", "a.png", "The file is not a PNG, JPEG or WebP image."),
        (image_bytes(700, 400)[:400], "cut.png", None),  # truncated
        (image_bytes(600, 400), "small.png", "The image is 600×400 px: at least 640×360 px"),
    ],
)
def test_bad_images_are_refused_and_nothing_stored(content, name, message):
    w = world()
    response = _post(w.seller, w.listing, content, "screenshot", name)
    assert response.status_code == 400
    if message:
        assert response.json()["file"][0].startswith(message)
    assert ListingMedia.objects.count() == 0
    assert _stored() == []


def test_a_too_small_logo_and_a_huge_image_are_refused():
    w = world()
    small = _post(w.seller, w.listing, image_bytes(100, 300), "logo")
    assert small.json()["file"] == ["The image is 100×300 px: at least 128×128 px for this kind."]
    huge = _post(w.seller, w.listing, image_bytes(8001, 10), "screenshot")
    assert huge.json()["file"] == ["The image is 8001×10 px: at most 8000 px a side."]
    assert ListingMedia.objects.count() == 0


def test_oversize_is_413_and_nothing_stored(settings):
    settings.FABRIC_MEDIA_MAX_BYTES = 10_000
    w = world()
    noise = io.BytesIO()
    Image.frombytes("RGB", (700, 400), os.urandom(700 * 400 * 3)).save(noise, format="PNG")
    assert len(noise.getvalue()) > 10_000
    response = _post(w.seller, w.listing, noise.getvalue(), "screenshot")
    assert response.status_code == 413
    assert ListingMedia.objects.count() == 0
    assert _stored() == []


def test_too_many_screenshots_is_409(settings):
    settings.FABRIC_MEDIA_MAX_SCREENSHOTS = 1
    w = world()
    assert _post(w.seller, w.listing, image_bytes(700, 400), "screenshot").status_code == 201
    response = _post(w.seller, w.listing, image_bytes(701, 400), "screenshot")
    assert response.status_code == 409
    assert ListingMedia.objects.count() == 1


def test_who_may_upload_and_delete(django_capture_on_commit_callbacks):
    w = world()
    content = image_bytes(700, 400)
    assert _post(w.buyer, w.listing, content, "screenshot").status_code == 404
    assert _post(w.viewer, w.listing, content, "screenshot").status_code == 403
    bad_kind = _post(w.seller, w.listing, content, "banner")
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()
    created = _post(w.seller, w.listing, content, "screenshot").json()
    path = f"/api/v1/listings/{w.listing.pk}/media/{created['id']}"
    assert as_user(w.buyer).delete(path).status_code == 404
    assert as_user(w.viewer).delete(path).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert as_user(w.seller).delete(path).status_code == 204
    assert ListingMedia.objects.count() == 0
    assert _stored() == []


def test_images_are_public_for_visible_listings_only():
    w = world()
    body = _post(w.seller, w.listing, image_bytes(700, 400), "screenshot").json()
    path = f"/fabric/media/{body['id']}.webp"
    anonymous = Client().get(path)
    assert anonymous.status_code == 200
    assert anonymous["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(b"".join(anonymous.streaming_content))).format == "WEBP"
    listed = Client().get(f"/api/v1/listings/{w.listing.pk}/media")
    assert [m["id"] for m in listed.json()["results"]] == [body["id"]]
    # The original is the seller's.
    original = f"/fabric/media/{body['id']}/original"
    assert Client().get(original).status_code == 404
    seller = Client()
    seller.force_login(w.seller)
    assert seller.get(original).status_code == 200
    assert seller.get(original)["Content-Type"] == "image/png"
    # A draft, or a private listing, shows its images to the seller's members only.
    for fields in ({"status": ListingStatus.DRAFT}, {"visibility": "private"}):
        other = world(**fields)
        hidden = _post(other.seller, other.listing, image_bytes(700, 400), "screenshot").json()
        hidden_path = f"/fabric/media/{hidden['id']}.webp"
        assert Client().get(hidden_path).status_code == 404
        assert Client().get(f"/api/v1/listings/{other.listing.pk}/media").status_code == 404
        member = Client()
        member.force_login(other.seller)
        assert member.get(hidden_path).status_code == 200
    assert Client().get("/fabric/media/00000000-0000-0000-0000-000000000000.webp").status_code == (
        404
    )


def test_an_image_whose_file_is_gone_is_404_not_500(caplog):
    w = world()
    body = _post(w.seller, w.listing, image_bytes(700, 400), "screenshot").json()
    media = ListingMedia.objects.get(pk=body["id"])
    for field in (media.webp, media.original):
        os.remove(field.path)
    seller = Client()
    seller.force_login(w.seller)
    assert seller.get(f"/fabric/media/{media.pk}.webp").status_code == 404
    assert seller.get(f"/fabric/media/{media.pk}/original").status_code == 404
    assert "is missing from" in caplog.text
