"""The data room: documents a seller uploads for the buyers who signed the NDA.

A document is accepted for what its bytes are (`document_type_of`), never for its name;
each one is stored once per listing (its sha256 is the natural key). Buyers get a file
only through a short-lived link (`document_link_issue`): a presigned URL of the bucket, or,
for files on this server's disk, our own signed URL served by `document_link_redeem`.
Every link handed out and every file served is a `DataRoomDownload`.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import get_valid_filename

from accounts.models import User
from fabric.cache import listing_changed
from fabric.models import DataRoomDocument, DataRoomDownload, DownloadKind, Listing
from fabric.selectors import ListingView, buyer_wallets, data_room_documents, signed_wallets
from fabrknt.api.errors import InvalidInput, NotFound, ServiceError, TooLarge

LINK_SALT = "fabric.dataroom.link"
SNIFF_BYTES = 8
FILENAME_MAX = 120
TEXT_CHUNK = 64 * 1024
# Control characters a text document may not hold (tab, line feed, form feed and carriage
# return are text).
TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


@dataclass(frozen=True)
class DocumentType:
    name: str  # as settings.FABRIC_DOCUMENT_TYPES names it
    content_type: str
    extensions: tuple[str, ...]  # the first is given to a file whose name has none of them


DOCUMENT_TYPES = {
    t.name: t
    for t in (
        DocumentType("pdf", "application/pdf", (".pdf",)),
        DocumentType("png", "image/png", (".png",)),
        DocumentType("jpeg", "image/jpeg", (".jpg", ".jpeg")),
        DocumentType(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            (".xlsx",),
        ),
        DocumentType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            (".docx",),
        ),
        DocumentType("csv", "text/csv", (".csv",)),
        DocumentType("md", "text/markdown", (".md", ".markdown")),
        DocumentType("txt", "text/plain", (".txt",)),
    )
}
# Office Open XML packages are zip files; the part folder says which application's.
OOXML_PARTS = {"xl/": "xlsx", "word/": "docx"}


class LinkExpired(ServiceError):
    status = 410
    code = "expired"
    default_detail = "This download link has expired: ask the data room for a new one."


def _chunks(upload: UploadedFile[bytes]) -> Iterator[bytes]:
    upload.seek(0)
    yield from upload.chunks(TEXT_CHUNK)


def _is_text(upload: UploadedFile[bytes]) -> bool:
    """UTF-8 throughout, without NUL or other control characters (an executable or any
    other binary fails at once)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        for chunk in _chunks(upload):
            if TEXT_FORBIDDEN.search(decoder.decode(chunk)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _ooxml_type(upload: UploadedFile[bytes]) -> str | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, name in OOXML_PARTS.items():
        if any(part.startswith(prefix) for part in names):
            return name
    return None


def _sniff(upload: UploadedFile[bytes]) -> str | None:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_type(upload)
    if _is_text(upload):
        # Text is text: its name only says which kind of text to call it.
        extension = os.path.splitext(upload.name or "")[1].lower()
        for name in ("csv", "md"):
            if extension in DOCUMENT_TYPES[name].extensions:
                return name
        return "txt"
    return None


def document_type_of(upload: UploadedFile[bytes]) -> DocumentType:
    """What the file's bytes are, if it is one of settings.FABRIC_DOCUMENT_TYPES."""
    name = _sniff(upload)
    upload.seek(0)
    if name is None or name not in settings.FABRIC_DOCUMENT_TYPES:
        allowed = ", ".join(settings.FABRIC_DOCUMENT_TYPES)
        raise InvalidInput(
            fields={"file": [f"This file's content is not one of the accepted types ({allowed})."]}
        )
    return DOCUMENT_TYPES[name]


def _stored_filename(upload: UploadedFile[bytes], document_type: DocumentType) -> str:
    """The uploaded name made safe, ending in an extension of what the file is."""
    name = get_valid_filename(os.path.basename(upload.name or "")) if upload.name else ""
    stem, extension = os.path.splitext(name)
    if extension.lower() not in document_type.extensions:
        stem, extension = name, document_type.extensions[0]
    stem = (stem or "document")[: FILENAME_MAX - len(extension)]
    return stem + extension.lower()


def _sha256(upload: UploadedFile[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(upload):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@dataclass(frozen=True)
class DocumentUpload:
    document: DataRoomDocument
    created: bool


def document_upload(
    *, listing: Listing, upload: UploadedFile[bytes], title: str = "", actor: User | None = None
) -> DocumentUpload:
    """Store a document in the listing's data room. The same content again is the same
    document (created False), stored once. Too large: TooLarge (413); not an accepted
    type: InvalidInput. Nothing is stored on a refusal."""
    limit = settings.FABRIC_DOCUMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise TooLarge(f"A data-room document may be at most {limit} bytes.")
    if upload.size == 0:
        raise InvalidInput(fields={"file": ["The file is empty."]})
    document_type = document_type_of(upload)
    sha256 = _sha256(upload)
    existing = data_room_documents(listing).filter(sha256=sha256).first()
    if existing is not None:
        return DocumentUpload(existing, created=False)
    filename = _stored_filename(upload, document_type)
    document = DataRoomDocument(
        listing=listing,
        title=title.strip() or os.path.splitext(filename)[0],
        content_type=document_type.content_type,
        size=upload.size,
        sha256=sha256,
        uploaded_by=actor,
    )
    document.file.save(filename, upload, save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:  # the same content, uploaded concurrently
        document.file.delete(save=False)
        return DocumentUpload(data_room_documents(listing).get(sha256=sha256), created=False)
    return DocumentUpload(document, created=True)


def document_delete(*, document: DataRoomDocument, actor: User | None = None) -> None:
    """Take a document out of the data room: its file is deleted once this commits, its
    row stays for the access log."""
    deleted = DataRoomDocument.objects.filter(pk=document.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by=actor
    )
    if deleted:
        listing_changed(document.listing_id)
        storage, name = document.file.storage, document.file.name or ""
        transaction.on_commit(lambda: storage.delete(name))


def document_filename(document: DataRoomDocument) -> str:
    return os.path.basename(document.file.name or "")


@dataclass(frozen=True)
class DocumentLink:
    url: str  # absolute for a bucket, a path on this server otherwise
    expires_at: datetime


def _audit_wallet(view: ListingView, user: User | None) -> str:
    """The wallet a download is recorded under: the buyer's signing wallet, or the seller
    member's first wallet."""
    if user is None:
        return ""
    if not view.is_seller:
        signed = signed_wallets(view.listing, user)
        return signed[0] if signed else ""
    wallets = buyer_wallets(user)
    return wallets[0].address if wallets else ""


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=LINK_SALT)


def document_link_issue(
    *, document: DataRoomDocument, view: ListingView, user: User | None, ip_address: str | None
) -> DocumentLink:
    """A short-lived link to the document for a caller `view` lets into the data room
    (see `fabric.selectors.data_room_document`), recorded in the access log."""
    seconds = settings.FABRIC_DOCUMENT_LINK_SECONDS
    wallet = _audit_wallet(view, user)
    storage = document.file.storage
    expires_at = timezone.now() + timedelta(seconds=seconds)
    if isinstance(storage, FileSystemStorage):
        payload = {"d": str(document.pk), "u": str(user.pk) if user else None, "w": wallet}
        token = _signer().sign_object(payload, compress=True)
        url = reverse("fabric-document-download", kwargs={"token": token})
    else:
        disposition = content_disposition_header(True, document_filename(document))
        # django-storages' S3Storage.url takes these; the base class's signature does not.
        url = storage.url(  # type: ignore[call-arg]
            document.file.name,
            expire=seconds,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": document.content_type,
            },
        )
    DataRoomDownload.objects.create(
        document=document,
        kind=DownloadKind.LINK,
        user=user,
        wallet_address=wallet,
        ip_address=ip_address,
    )
    return DocumentLink(url=url, expires_at=expires_at)


def document_link_redeem(*, token: str, ip_address: str | None) -> DataRoomDocument:
    """The document behind one of our signed links, recorded as served. The link is the
    permission: only its signature and age are checked. Forged: InvalidInput; too old:
    LinkExpired; the document deleted since: NotFound."""
    try:
        payload: dict[str, Any] = _signer().unsign_object(
            token, max_age=settings.FABRIC_DOCUMENT_LINK_SECONDS
        )
    except signing.SignatureExpired as error:
        raise LinkExpired() from error
    except (signing.BadSignature, ValueError) as error:
        raise InvalidInput("This download link is not valid.") from error
    document = DataRoomDocument.objects.filter(
        pk=str(payload["d"]), deleted_at__isnull=True
    ).first()
    if document is None:
        raise NotFound()
    DataRoomDownload.objects.create(
        document=document,
        kind=DownloadKind.DOWNLOAD,
        user=User.objects.filter(pk=str(payload["u"])).first() if payload["u"] else None,
        wallet_address=str(payload.get("w") or ""),
        ip_address=ip_address,
    )
    return document
