"""/verify/…: a certificate's public page and its signed JSON, for anyone (no sign-in)."""

from __future__ import annotations

from django.urls import path

from trace.pages import certificates

app_name = "verify"

urlpatterns = [
    path("<uuid:certificate_id>", certificates.certificate_verify_page, name="certificate"),
    path("<uuid:certificate_id>.json", certificates.certificate_download, name="download"),
]
