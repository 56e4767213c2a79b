"""The seller's upload forms: a data-room document, a listing image."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from fabric.models import MediaKind
from fabrknt.pages.forms import ServiceForm

DOCUMENT_ACCEPT = ".pdf,.png,.jpg,.jpeg,.csv,.xlsx,.docx,.txt,.md"
IMAGE_ACCEPT = "image/png,image/jpeg,image/webp"


def upload_too_large(request: HttpRequest, limit: int) -> bool:
    """A POST whose body is over the upload's limit (plus the form's other fields), told
    from its Content-Length before Django reads (and spools) any of it."""
    if request.method != "POST":
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit + settings.MULTIPART_OVERHEAD
    except ValueError:
        return True


class DocumentUploadForm(ServiceForm):
    file = forms.FileField(
        label="Document",
        widget=forms.ClearableFileInput(attrs={"accept": DOCUMENT_ACCEPT}),
    )
    title = forms.CharField(
        max_length=200,
        required=False,
        help_text="What buyers see in the data room; the file's name when left empty.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        limit = filesizeformat(settings.FABRIC_DOCUMENT_MAX_BYTES)
        self.fields["file"].help_text = (
            f"PDF, PNG, JPEG, Excel (.xlsx), Word (.docx), CSV, Markdown or plain text, up to "
            f"{limit}. The type is checked from the file's content."
        )


class MediaUploadForm(ServiceForm):
    kind = forms.ChoiceField(
        label="Kind of image",
        choices=MediaKind.choices,
        initial=MediaKind.SCREENSHOT,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label="Image",
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        limit = filesizeformat(settings.FABRIC_MEDIA_MAX_BYTES)
        self.fields["file"].help_text = (
            f"PNG, JPEG or WebP, up to {limit}. A logo is at least 128×128 px and is cropped "
            "square; a screenshot at least 640×360 px. Camera and location data are removed."
        )
