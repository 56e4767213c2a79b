"""Certificate pages: issue for a period, the past certificates, the signed JSON download
(the API's bytes) and the public verification page /verify/<id>."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from html import unescape

import pytest
import rfc8785
from django.test import Client
from nacl.signing import VerifyKey

from accounts.models import AuditAction, AuditEvent, Role
from accounts.tests.factories import MembershipFactory
from trace.models import GrowthCertificate
from trace.services.certificates import certificate_public_keys
from trace.tests.factories import (
    ContractInteractionFactory,
    ContractVerificationFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
WEEK_START = YESTERDAY - dt.timedelta(days=6)


def _member(client: Client, organization, role: str = Role.VIEWER):
    membership = MembershipFactory(organization=organization, role=role)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def project():
    project = ProjectFactory(name="Basedrop")
    ContractInteractionFactory(
        project=project,
        occurred_at=dt.datetime.combine(YESTERDAY, dt.time(8), tzinfo=dt.UTC),
        value_usd=Decimal("12.34"),
    )
    return project


def _issue(client: Client, project, date_from=WEEK_START, date_to=YESTERDAY):
    return client.post(
        f"/trace/projects/{project.pk}/certificates/",
        {"from": str(date_from), "to": str(date_to)},
    )


def test_a_viewer_issues_a_certificate_and_lands_on_its_public_page(client, project):
    """Issuing is a read in the API (member or `read` key), so a viewer may issue."""
    member = _member(client, project.organization, Role.VIEWER)

    response = _issue(client, project)

    certificate = GrowthCertificate.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/verify/{certificate.pk}"
    assert (certificate.project_id, certificate.period_from, certificate.period_to) == (
        project.pk,
        WEEK_START,
        YESTERDAY,
    )
    payload = json.loads(certificate.canonical_json)
    assert payload["metrics"]["transaction_count"] == 1
    assert payload["metrics"]["transaction_volume_usd"] == "12.34"
    event = AuditEvent.objects.get(action=AuditAction.CERTIFICATE_ISSUED)
    assert event.actor_id == member.user_id


def test_the_same_period_and_data_give_the_stored_certificate(client, project):
    _member(client, project.organization, Role.MEMBER)

    first = _issue(client, project)
    second = _issue(client, project)

    assert GrowthCertificate.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        (YESTERDAY, WEEK_START, "`from` must not be after `to`."),
        (YESTERDAY, TODAY + dt.timedelta(days=1), "A certificate cannot cover days in the future."),
        (TODAY - dt.timedelta(days=400), TODAY, "A certificate covers at most 366 days."),
        ("not-a-date", YESTERDAY, "Enter a valid date."),
    ],
)
def test_a_bad_period_is_refused_with_its_message_and_nothing_stored(
    client, project, date_from, date_to, message
):
    _member(client, project.organization, Role.MEMBER)

    response = _issue(client, project, date_from, date_to)

    assert response.status_code == 400
    assert message in unescape(response.text)
    assert GrowthCertificate.objects.count() == 0
    assert not AuditEvent.objects.filter(action=AuditAction.CERTIFICATE_ISSUED).exists()


def test_another_organizations_project_is_a_404_and_nothing_is_issued(client, project):
    _member(client, ProjectFactory().organization, Role.OWNER)

    assert client.get(f"/trace/projects/{project.pk}/certificates/").status_code == 404
    assert _issue(client, project).status_code == 404
    assert GrowthCertificate.objects.count() == 0


def test_signed_out_visitors_are_sent_to_sign_in(client, project):
    response = client.get(f"/trace/projects/{project.pk}/certificates/")

    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")


def test_the_page_lists_past_certificates_newest_first(client, project):
    _member(client, project.organization)
    _issue(client, project, WEEK_START, YESTERDAY)
    _issue(client, project, YESTERDAY, YESTERDAY)

    response = client.get(f"/trace/projects/{project.pk}/certificates/")

    assert response.status_code == 200
    listed = list(response.context["certificates"])
    newest_first = GrowthCertificate.objects.order_by("-issued_at").values_list("pk", flat=True)
    assert len(listed) == 2
    assert [certificate.pk for certificate in listed] == list(newest_first)
    for certificate in listed:
        assert f'href="/verify/{certificate.pk}"' in response.text
        assert f'href="/verify/{certificate.pk}.json"' in response.text


def test_an_empty_list_says_so(client, project):
    _member(client, project.organization)

    response = client.get(f"/trace/projects/{project.pk}/certificates/")

    assert "No certificates yet" in response.text


def test_the_download_is_the_apis_bytes_and_verifies_offline(client, project):
    _member(client, project.organization, Role.MEMBER)
    _issue(client, project)
    certificate = GrowthCertificate.objects.get()

    download = Client().get(f"/verify/{certificate.pk}.json")  # no sign-in
    api = Client().get(f"/api/v1/certificates/{certificate.pk}")

    assert download.status_code == 200
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"] == (
        f'attachment; filename="certificate-basedrop-{WEEK_START}-{YESTERDAY}.json"'
    )
    assert download.content == api.content
    document = json.loads(download.content)
    assert set(document) == {"certificate", "signature", "algorithm", "key_id"}
    # The offline check the page describes: RFC 8785 bytes, the published key.
    public_key = certificate_public_keys()[document["key_id"]]
    signed = rfc8785.dumps(document["certificate"])
    VerifyKey(public_key).verify(signed, base64.b64decode(document["signature"]))


def test_the_public_page_shows_the_certificate_and_embeds_the_signed_bytes(client, project):
    ContractVerificationFactory(project=project)
    _member(client, project.organization, Role.MEMBER)
    _issue(client, project)
    certificate = GrowthCertificate.objects.get()

    response = Client().get(f"/verify/{certificate.pk}")  # anyone, no sign-in

    assert response.status_code == 200
    html = unescape(response.text)
    payload = json.loads(certificate.canonical_json)
    assert project.organization.name in html
    assert "Basedrop" in html
    assert f"{WEEK_START} to {YESTERDAY}" in html
    assert project.contract_addresses[0] in html
    assert "control verified" in html
    assert "Verified contracts only" in html
    assert payload["verified_metrics"]["transaction_volume_usd"] == "12.34"
    assert "Proven conversion share" in html
    embedded = re.search(r'data-signed-bytes="([^"]+)"', response.text).group(1)
    assert base64.b64decode(embedded) == certificate.canonical_json.encode("utf-8")
    assert f'data-key-id="{certificate.key_id}"' in response.text
    assert 'data-keys-url="http://testserver/api/v1/certificates/keys"' in response.text
    assert f'data-signature="{certificate.signature}"' in response.text
    assert 'rfc8785.dumps(document["certificate"])' in html  # the offline snippet
    assert "/static/trace/certificate-verify.js" in response.text


def test_a_certificate_without_verified_contracts_has_no_verified_column(client, project):
    _member(client, project.organization, Role.MEMBER)
    _issue(client, project)
    certificate = GrowthCertificate.objects.get()

    response = Client().get(f"/verify/{certificate.pk}")

    assert json.loads(certificate.canonical_json)["verified_metrics"] is None
    assert "Verified contracts only" not in response.text
    assert "not proven" in response.text


def test_an_unknown_certificate_is_a_404(client):
    assert Client().get(f"/verify/{uuid.uuid4()}").status_code == 404
    assert Client().get(f"/verify/{uuid.uuid4()}.json").status_code == 404
