"""What TRACE's cached reads depend on, and the writes that retire them
(fabrknt/readcache.py; README, "Read cache").

- `trace:certificates`: the public certificate reads (`/verify/<id>`, its `.json`,
  `GET /api/v1/certificates/<id>`). A certificate never changes once issued; its project's
  name (the download's file name) does: `project_update` calls `certificates_changed`
  after a rename (a queryset update), and a deleted certificate arrives through the
  receiver.
- `trace:campaign:<id>`: a campaign's page (trace.pages.campaigns): its row, its rollups
  (every rollup write either inserts clicks through `clicks_insert` or locks the days'
  rows through `_lock` first: both call `campaigns_figures_changed`), its wallets' proof
  (`wallet_identify` when a link becomes proven), and its project's row and metrics
  (`projects_changed`: the project services' queryset updates and `metrics_save`, which
  writes in bulk, call it; a metric saved one by one, in the admin, reaches it by its
  receiver), and its organization's publishable keys, which the snippet offers
  (`organization_campaigns_changed`: a key issued or deleted, by the receiver below; a
  key revoked, a queryset update, by `api_key_revoke`).
- `trace:project:<id>`: a project's metrics as `GET /api/v1/metrics/<id>` reads them, with
  its organization (who may see them is decided per request): `projects_changed`, which
  `metrics_save` and the project services call and the receivers below reach.
- `trace:campaigns:<organization id>`: the campaign list of the API (its campaigns' rows
  only, not their figures): a campaign's save or delete, by the receiver below.
- `trace:figures:<organization id>`: the dashboard's projects and campaigns of an
  organization with their figures: everything the campaign scopes name, for all of its
  campaigns and projects, and the organization's name. One thing only reaches it by its
  TTL (READ_CACHE_SECONDS): a project's first stored interaction, which turns "no on-chain
  activity recorded yet" into its metrics, computed after it (and retired then) anyway.

Model saves and deletes bump them through the receivers below (a project's before it is
deleted, while its campaigns still name it). They change with each flush (every few
seconds while a campaign gets clicks), not with each click: between two flushes a page's
figures are read once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils.text import slugify

from accounts.models import ApiKey, Organization
from fabrknt.readcache import cached, changed, retiring
from trace.models import ActivityMetric, Campaign, GrowthCertificate, Project

if TYPE_CHECKING:
    from trace.services.certificates import JsonObject

CERTIFICATES = "trace:certificates"


def certificates_changed() -> None:
    changed(CERTIFICATES)


@dataclass(frozen=True)
class PublicCertificate:
    """A certificate as anyone reads it by its id."""

    document: JsonObject
    canonical_json: str
    filename: str


def certificate_filename(certificate: GrowthCertificate) -> str:
    name = slugify(certificate.project.name) or "project"
    return f"certificate-{name}-{certificate.period_from}-{certificate.period_to}.json"


def _read(certificate_id: uuid.UUID | str) -> PublicCertificate | None:
    # Imported here: the services import this module to retire what they change.
    from trace.services.certificates import certificate_document

    certificate = (
        GrowthCertificate.objects.select_related("project").filter(pk=certificate_id).first()
    )
    if certificate is None:
        return None
    return PublicCertificate(
        document=certificate_document(certificate),
        canonical_json=certificate.canonical_json,
        filename=certificate_filename(certificate),
    )


def public_certificate(certificate_id: uuid.UUID | str) -> PublicCertificate | None:
    """The certificate of that id, or None: the same for anyone, cached."""
    return cached(
        "trace:certificate",
        scopes=[CERTIFICATES],
        parts=(str(certificate_id),),
        build=lambda: _read(certificate_id),
    )


def campaign_scope(campaign_id: object) -> str:
    return f"trace:campaign:{campaign_id}"


def project_scope(project_id: object) -> str:
    return f"trace:project:{project_id}"


def campaign_list_scope(organization_id: object) -> str:
    return f"trace:campaigns:{organization_id}"


def organization_figures_scope(organization_id: object) -> str:
    return f"trace:figures:{organization_id}"


def campaigns_figures_changed(campaign_ids: Iterable[object]) -> None:
    """The figures of these campaigns changed (or are changing in the current
    transaction): their pages' and their organizations' dashboards'. One query for the
    organizations, none while Redis is backed off (every click's insert on the database
    fallback)."""
    ids = sorted({str(pk) for pk in campaign_ids})
    if not ids or not retiring(f"campaigns {', '.join(ids)}"):
        return
    organizations = (
        Campaign.objects.filter(pk__in=ids)
        .order_by()  # the default ordering would make DISTINCT one row per campaign
        .values_list("organization_id", flat=True)
        .distinct()
    )
    changed(
        *(campaign_scope(pk) for pk in ids),
        *(organization_figures_scope(pk) for pk in organizations),
    )


def organization_campaigns_changed(organization_id: uuid.UUID) -> None:
    """What every campaign page of the organization shows besides its own rows changed:
    its publishable keys (the snippet's). One query, none while Redis is backed off."""
    if retiring(f"the campaigns of organization {organization_id}"):
        changed(
            *(
                campaign_scope(pk)
                for pk in Campaign.objects.filter(organization_id=organization_id).values_list(
                    "pk", flat=True
                )
            )
        )


def projects_changed(project_ids: Iterable[object]) -> None:
    """Rows of these projects (or their metrics) changed: their metrics reads, their
    organizations' dashboards and their campaigns' pages (which name the project and its
    metrics' freshness). One query for both, none while Redis is backed off."""
    ids = sorted({str(pk) for pk in project_ids})
    if not ids or not retiring(f"projects {', '.join(ids)}"):
        return
    rows = Project.objects.filter(pk__in=ids).values_list("organization_id", "campaigns__id")
    organizations = {organization for organization, _ in rows}
    campaigns = sorted({str(campaign) for _, campaign in rows if campaign is not None})
    changed(
        *(project_scope(pk) for pk in ids),
        *(organization_figures_scope(pk) for pk in organizations),
        *(campaign_scope(pk) for pk in campaigns),
    )


def _campaign_saved(sender: Any, instance: Campaign, **kwargs: Any) -> None:
    changed(
        campaign_scope(instance.pk),
        campaign_list_scope(instance.organization_id),
        organization_figures_scope(instance.organization_id),
    )


def _project_saved(sender: Any, instance: Project, **kwargs: Any) -> None:
    projects_changed([instance.pk])


def _metric_saved(sender: Any, instance: ActivityMetric, **kwargs: Any) -> None:
    projects_changed([instance.project_id])  # one edited in the admin, say


def _api_key_saved(sender: Any, instance: ApiKey, **kwargs: Any) -> None:
    if instance.publishable_key:
        organization_campaigns_changed(instance.organization_id)


def _organization_saved(sender: Any, instance: Organization, **kwargs: Any) -> None:
    changed(organization_figures_scope(instance.pk))


def _certificate_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    certificates_changed()


def connect() -> None:
    """Called by TraceConfig.ready()."""
    for event, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(
            _certificate_saved,
            sender=GrowthCertificate,
            dispatch_uid=f"readcache-certificate-{event}",
        )
        for model, receiver in (
            (Campaign, _campaign_saved),
            (ActivityMetric, _metric_saved),
            (Organization, _organization_saved),
            (ApiKey, _api_key_saved),
        ):
            signal.connect(
                receiver, sender=model, dispatch_uid=f"readcache-{model.__name__}-{event}"
            )
    for event, signal in (("save", post_save), ("delete", pre_delete)):
        signal.connect(_project_saved, sender=Project, dispatch_uid=f"readcache-project-{event}")
