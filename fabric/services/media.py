"""A listing's images: a logo and screenshots the seller uploads.

Each upload is checked with Pillow (a PNG, JPEG or WebP by its content; bytes, and
dimensions within bounds), its metadata dropped (EXIF: camera, place, time), then kept
twice: the original at full size in its own format, and a WebP for the marketplace (a
logo cropped square to at most 512 px, a screenshot at most 1600 px wide). The same image
uploaded again is the same media.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from PIL import Image, ImageOps, UnidentifiedImageError

from fabric.models import Listing, ListingMedia, MediaKind
from fabrknt.api.errors import Conflict, InvalidInput, TooLarge

# Pillow's format name → the extension the original is stored under.
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
MAX_SIDE = 8000  # px; a larger image is refused before it is decoded
WEBP_QUALITY = 85


@dataclass(frozen=True)
class KindRules:
    min_width: int
    min_height: int
    max_width: int  # of the WebP
    square: bool


RULES = {
    MediaKind.LOGO: KindRules(min_width=128, min_height=128, max_width=512, square=True),
    MediaKind.SCREENSHOT: KindRules(min_width=640, min_height=360, max_width=1600, square=False),
}


@dataclass(frozen=True)
class MediaUpload:
    media: ListingMedia
    created: bool


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(fields={"file": [message]})


def _open(upload: UploadedFile[bytes], rules: KindRules) -> tuple[Image.Image, str]:
    """The decoded image, upright (EXIF orientation applied), and its format."""
    upload.seek(0)
    try:
        image = Image.open(upload, formats=list(FORMATS))
        width, height = image.size
        if width > MAX_SIDE or height > MAX_SIDE:
            raise _refuse(f"The image is {width}×{height} px: at most {MAX_SIDE} px a side.")
        image_format = str(image.format)
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise _refuse("The file is not a PNG, JPEG or WebP image.") from error
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt
        raise _refuse("The image could not be read: it is damaged or incomplete.") from error
    width, height = upright.size
    if width < rules.min_width or height < rules.min_height:
        raise _refuse(
            f"The image is {width}×{height} px: at least "
            f"{rules.min_width}×{rules.min_height} px for this kind."
        )
    return upright, image_format


def _encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    """The image in `image_format`, without metadata (nothing passed, nothing written)."""
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


def _for_web(image: Image.Image, rules: KindRules) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    web = image.convert("RGBA" if has_alpha else "RGB")
    if rules.square:
        side = min(web.size)
        web = ImageOps.fit(web, (side, side))
    if web.width > rules.max_width:
        height = round(web.height * rules.max_width / web.width)
        web = web.resize((rules.max_width, height), Image.Resampling.LANCZOS)
    return web


def media_upload(*, listing: Listing, upload: UploadedFile[bytes], kind: str) -> MediaUpload:
    """Add an image to the listing (a new logo replaces the old one). Refusals store
    nothing: too large TooLarge (413), not an image of the accepted kinds or out of bounds
    InvalidInput, one screenshot too many Conflict."""
    rules = RULES[MediaKind(kind)]
    limit = settings.FABRIC_MEDIA_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise TooLarge(f"An image may be at most {limit} bytes.")
    upload.seek(0)
    sha256 = hashlib.sha256(upload.read()).hexdigest()
    existing = ListingMedia.objects.filter(listing=listing, kind=kind, sha256=sha256).first()
    if existing is not None:
        return MediaUpload(existing, created=False)
    screenshots = ListingMedia.objects.filter(listing=listing, kind=MediaKind.SCREENSHOT)
    most = settings.FABRIC_MEDIA_MAX_SCREENSHOTS
    if kind == MediaKind.SCREENSHOT and screenshots.count() >= most:
        raise Conflict(f"A listing has at most {most} screenshots: delete one first.")
    image, image_format = _open(upload, rules)
    original = _encoded(image, image_format, **({"quality": 95} if image_format == "JPEG" else {}))
    web = _for_web(image, rules)
    last = screenshots.aggregate(last=Max("position"))["last"]
    media = ListingMedia(
        listing=listing,
        kind=kind,
        width=web.width,
        height=web.height,
        position=0 if kind == MediaKind.LOGO or last is None else last + 1,
        sha256=sha256,
    )
    media.original.save(f"original{FORMATS[image_format]}", ContentFile(original), save=False)
    media.webp.save(
        f"{kind}.webp", ContentFile(_encoded(web, "WEBP", quality=WEBP_QUALITY)), save=False
    )
    try:
        with transaction.atomic():
            if kind == MediaKind.LOGO:
                for old in ListingMedia.objects.filter(listing=listing, kind=MediaKind.LOGO):
                    media_delete(media=old)
            media.save()
    except IntegrityError:  # the same image, uploaded concurrently
        _delete_files(media)
        return MediaUpload(
            ListingMedia.objects.get(listing=listing, kind=kind, sha256=sha256), created=False
        )
    return MediaUpload(media, created=True)


def _delete_files(media: ListingMedia) -> None:
    for field in (media.original, media.webp):
        if field.name:
            field.storage.delete(field.name)


def media_delete(*, media: ListingMedia) -> None:
    """Remove an image; its files go once this commits."""
    media.delete()
    transaction.on_commit(lambda: _delete_files(media))
