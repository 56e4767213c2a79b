"""TRACE's cached public certificate reads (trace/cache.py): `/verify/<id>`, its `.json`
and `GET /api/v1/certificates/<id>`. Read, rename the project through the real page
(the download's file name carries it), read again shows it; the second read is the
cache's; the headers let the CDN keep anyone's render, never a signed-in one."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from trace.services.certificates import certificate_issue
from trace.services.projects import project_update
from trace.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


@pytest.fixture
def certificate():
    project = ProjectFactory(name="Basedrop")
    return certificate_issue(
        project_id=project.pk, date_from=YESTERDAY - dt.timedelta(days=6), date_to=YESTERDAY
    )


def _get(client: Client, path: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return response, len(queries)


def test_anyones_certificate_reads_are_cached_and_a_rename_shows(certificate):
    anyone = Client()
    page = f"/verify/{certificate.pk}"
    download = f"/verify/{certificate.pk}.json"
    api = f"/api/v1/certificates/{certificate.pk}"
    _, cold = _get(anyone, page)
    assert cold > 0
    for path in (page, download, api):  # one entry behind all three
        _, warm = _get(anyone, path)
        assert warm == 0, path
    assert "certificate-basedrop-" in anyone.get(download)["Content-Disposition"]

    project_update(project=certificate.project, actor=None, name="Basedrop Two")

    assert "certificate-basedrop-two-" in anyone.get(download)["Content-Disposition"]
    assert "certificate-basedrop-two-" in anyone.get(page).content.decode()
    # The signed document itself never changes.
    assert anyone.get(api).json()["signature"] == certificate.signature


def test_unknown_certificates_are_404_cached_or_not():
    for _ in range(2):
        assert Client().get(f"/verify/{uuid.uuid4()}").status_code == 404
        assert Client().get(f"/api/v1/certificates/{uuid.uuid4()}").status_code == 404


def test_public_headers_for_anyone_private_for_a_signed_in_render(certificate, settings):
    settings.PUBLIC_PAGE_MAX_AGE, settings.PUBLIC_PAGE_S_MAXAGE = 60, 300
    anyone = Client()
    page = anyone.get(f"/verify/{certificate.pk}")
    assert page["Cache-Control"] == "public, max-age=60, s-maxage=300"
    assert "Cookie" in page["Vary"]
    assert "Set-Cookie" not in page.headers  # nothing a CDN could hand to the next reader
    for path in (f"/verify/{certificate.pk}.json", f"/api/v1/certificates/{certificate.pk}"):
        assert anyone.get(path)["Cache-Control"] == "public, max-age=60, s-maxage=300"

    member = Client()
    member.force_login(
        MembershipFactory(organization=certificate.project.organization, role=Role.VIEWER).user
    )
    mine = member.get(f"/verify/{certificate.pk}")
    assert mine["Cache-Control"] == "private, no-cache"
    assert "Cookie" in mine["Vary"]


def test_a_members_pages_stay_uncacheable_by_the_cdn(certificate):
    """The project's own certificate list is a member's page: never public."""
    member = Client()
    member.force_login(
        MembershipFactory(organization=certificate.project.organization, role=Role.VIEWER).user
    )
    response = member.get(f"/trace/projects/{certificate.project.pk}/certificates/")
    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")
