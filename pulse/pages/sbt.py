"""A contributor's soulbound tokens and the "request a mint" form:
/pulse/teams/<pulse_id>/contributors/<id>/tokens.

Reading needs READ on the team's organization; asking for a mint WRITE (a viewer's forged
POST is a 403, another organization's team a 404), as `POST /api/v1/mint-sbt` does; the
form calls the same service (`pulse.services.sbt.sbt_request`).
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.urls import reverse

from accounts.http import AuthenticatedHttpRequest
from accounts.selectors import READ, WRITE, caller_access
from fabrknt.api.errors import NotFound, PermissionDenied
from fabrknt.chain.networks import chain_name, network_of
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted
from pulse.models import Contributor, SBTRecord, Team, WalletNamespace
from pulse.pages.sbt_forms import SbtRequestForm
from pulse.services.milestones import RULES, milestone_progress
from pulse.services.sbt import sbt_request

Request = AuthenticatedHttpRequest


def _contributor(request: Request, pulse_id: str, contributor_id: UUID) -> Contributor:
    access = caller_access(user=request.user)
    team = access.get(Team.objects.select_related("organization"), READ, pulse_id=pulse_id)
    contributor = (
        Contributor.objects.select_related("team").filter(team=team, pk=contributor_id).first()
    )
    if contributor is None:
        raise NotFound()
    return contributor


def token_rows(contributor: Contributor) -> list[dict[str, object]]:
    """The contributor's tokens as `pulse/sbt/_tokens.html` shows them (here and on the
    contributor's dashboard page)."""
    rows: list[dict[str, object]] = []
    for record in SBTRecord.objects.filter(contributor=contributor).order_by("created_at"):
        network = network_of(record.chain)
        metadata_url = image_url = ""
        if record.token_id is not None:
            kwargs = {
                "chain": record.chain,
                "address": record.token_address,
                "token_id": int(record.token_id),
            }
            metadata_url = reverse("pulse-sbt-metadata", kwargs=kwargs)
            image_url = reverse("pulse_sbt:image", kwargs=kwargs)
        transaction_url = (
            network.transaction_url(record.tx_hash) if network and record.tx_hash else ""
        )
        rows.append(
            {
                "record": record,
                "chain_name": chain_name(record.chain),
                "transaction_url": transaction_url,
                "metadata_url": metadata_url,
                "image_url": image_url,
            }
        )
    return rows


@page_view
def tokens_page(request: Request, pulse_id: str, contributor_id: UUID) -> HttpResponse:
    contributor = _contributor(request, pulse_id, contributor_id)
    team = contributor.team
    can_write = caller_access(user=request.user).allows(team.organization_id, WRITE)
    held = set(contributor.sbt_records.values_list("milestone", flat=True))
    progress = milestone_progress(contributor)
    open_milestones = [name for name in RULES if name not in held]
    form = SbtRequestForm(posted(request), milestones=open_milestones)
    if submitted(request):
        if not can_write:
            raise PermissionDenied()
        claim = form.submit(
            lambda: sbt_request(
                team=team,
                wallet_address=contributor.wallet_address,
                milestone=form.cleaned_data["milestone"],
            )
        )
        if claim is not None:
            label = claim.record.get_milestone_display()
            messages.success(request, f"“{label}” is queued: the token is minted in a moment.")
            return redirect_to(request, request.path)
    context: dict[str, object] = {
        "team": team,
        "contributor": contributor,
        "tokens": token_rows(contributor),
        "progress": [
            {
                "milestone": name,
                "description": rule.description,
                "count": progress[name][0],
                "threshold": rule.threshold,
                "met": progress[name][0] >= rule.threshold,
                "held": name in held,
            }
            for name, rule in RULES.items()
        ],
        "can_request": can_write and bool(open_milestones),
        "evm_wallet": contributor.wallet_namespace == WalletNamespace.EVM,
    }
    return form_page(request, "pulse/sbt/tokens.html", context, form)
