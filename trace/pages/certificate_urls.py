"""A project's certificates, under /trace/ (trace.pages.certificates)."""

from __future__ import annotations

from django.urls import path

from trace.pages import certificates

urlpatterns = [
    path(
        "projects/<uuid:project_id>/certificates/",
        certificates.project_certificates,
        name="certificates",
    ),
]
