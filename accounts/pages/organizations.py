"""Organization pages: list → detail → form for organizations, members and API keys, plus
settings, the audit log, the export and deletion.

Each view finds its organization through `caller_access` with the access its action needs
(READ to look, MANAGE to change members, keys and settings, OWN to delete or hand over
ownership), so a forged POST is refused exactly as the API refuses it; the services do
the rest. Templates show write controls only to roles that may use them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors
from accounts.http import AuthenticatedHttpRequest
from accounts.models import ApiKey, Membership, Organization, Role
from accounts.pages import forms as f
from accounts.pages.current import (
    current_organization_choose,
    current_organization_forget,
    memberships_of,
    page_access,
)
from accounts.selectors import MANAGE, OWN, READ, Access, CallerAccess
from accounts.services.api_keys import api_key_issue, api_key_revoke
from accounts.services.organization_export import organization_export_chunks
from accounts.services.organizations import (
    EXPORT_FRESHNESS,
    membership_add,
    membership_remove,
    membership_role_change,
    organization_create,
    organization_daily_quota_set,
    organization_delete,
    organization_export_is_fresh,
    organization_exported,
    organization_update,
    ownership_transfer,
)
from fabrknt.api.errors import NotFound
from fabrknt.api.quota import api_keys_used_today, quota_day_end
from fabrknt.pages.decorators import page_view
from fabrknt.pages.forms import ConfirmForm, form_page
from fabrknt.pages.htmx import posted, redirect_to, submitted

AUDIT_PAGE_SIZE = 50
Request = AuthenticatedHttpRequest


class _Scope:
    """One organization as the caller sees it: the object, their role, what they may do."""

    def __init__(self, request: Request, organization_id: object, access: Access) -> None:
        self.access: CallerAccess = page_access(request)
        self.organization: Organization = self.access.organization(organization_id, access)
        self.role = self.access.role(self.organization.pk)
        current_organization_choose(request, self.organization)

    def require(self, access: Access) -> None:
        """Refuse (403) a caller who may look but not do this."""
        self.access.organization(self.organization.pk, access)

    def context(self, section: str, **extra: object) -> dict[str, object]:
        return {
            "organization": self.organization,
            "role": self.role,
            "can_manage": self.access.allows(self.organization.pk, MANAGE),
            "is_owner": self.role == Role.OWNER,
            "section": section,
            **extra,
        }

    def url(self, name: str, *args: object) -> str:
        return reverse(f"organizations:{name}", args=[self.organization.pk, *args])


# --- organizations ----------------------------------------------------------------------


@page_view
def organization_list(request: Request) -> HttpResponse:
    return render(
        request, "accounts/organizations/list.html", {"memberships": memberships_of(request)}
    )


@page_view
def organization_create_page(request: Request) -> HttpResponse:
    form = f.OrganizationForm(posted(request))
    if submitted(request):
        organization = form.submit(
            lambda: organization_create(name=form.cleaned_data["name"], owner=request.user)
        )
        if organization is not None:
            current_organization_choose(request, organization)
            messages.success(request, f"{organization.name} is ready. You are its owner.")
            return redirect_to(request, reverse("organizations:detail", args=[organization.pk]))
    return form_page(request, "accounts/organizations/create.html", {}, form)


@require_POST
@page_view
def organization_switch(request: Request) -> HttpResponse:
    organization = page_access(request).organization(request.POST.get("organization"))
    current_organization_choose(request, organization)
    return redirect_to(request, reverse("organizations:detail", args=[organization.pk]))


@page_view
def organization_detail(request: Request, organization_id) -> HttpResponse:
    scope = _Scope(request, organization_id, READ)
    context = scope.context(
        "overview",
        member_count=scope.organization.memberships.count(),
        key_count=scope.organization.api_keys.active().count(),
    )
    return render(request, "accounts/organizations/detail.html", context)


@page_view
def organization_settings(request: Request, organization_id) -> HttpResponse:
    scope = _Scope(request, organization_id, READ)
    form = f.OrganizationForm(posted(request), initial={"name": scope.organization.name})
    if request.method == "POST":
        scope.require(MANAGE)
    if submitted(request):
        updated = form.submit(
            lambda: organization_update(
                organization=scope.organization, name=form.cleaned_data["name"], actor=request.user
            )
        )
        if updated is not None:
            messages.success(request, "Settings saved.")
            return redirect_to(request, scope.url("settings"))
    context = scope.context("settings", export_freshness_hours=_hours(EXPORT_FRESHNESS))
    return form_page(request, "accounts/organizations/settings.html", context, form)


@require_GET
@page_view
def organization_export(request: Request, organization_id) -> StreamingHttpResponse:
    """The organization's data as a JSON download, streamed (owners and admins)."""
    scope = _Scope(request, organization_id, MANAGE)
    organization_exported(organization=scope.organization, actor=request.user)
    response = StreamingHttpResponse(
        organization_export_chunks(organization=scope.organization),
        content_type="application/json",
    )
    filename = f"{scope.organization.slug}-export.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@page_view
def organization_delete_page(request: Request, organization_id) -> HttpResponse:
    scope = _Scope(request, organization_id, OWN)
    form = f.DeleteOrganizationForm(posted(request), organization_name=scope.organization.name)
    if submitted(request):
        deleted = form.submit(
            lambda: organization_delete(organization=scope.organization, actor=request.user)
        )
        if deleted is not None:
            current_organization_forget(request, deleted)
            messages.success(request, f"{deleted.name} was deleted.")
            return redirect_to(request, reverse("organizations:list"))
    context = scope.context(
        "settings",
        export_freshness_hours=_hours(EXPORT_FRESHNESS),
        export_is_fresh=organization_export_is_fresh(organization=scope.organization),
    )
    return form_page(request, "accounts/organizations/delete.html", context, form)


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


# --- members ----------------------------------------------------------------------------


def _members_page(
    request: Request, scope: _Scope, *, refused: f.MemberRoleForm | None = None
) -> HttpResponse:
    """The member list; a refused role change shows its form with the error, in its row."""
    rows = []
    for membership in selectors.organization_members(organization=scope.organization):
        form = refused if refused is not None and refused.membership.pk == membership.pk else None
        rows.append(
            {
                "membership": membership,
                "wallets": list(membership.user.wallets.all()),
                "is_you": membership.user_id == request.user.pk,
                "form": form or f.MemberRoleForm(membership=membership, caller_role=scope.role),
            }
        )
    status = refused.status if refused is not None else 200
    context = scope.context("members", rows=rows)
    return render(request, "accounts/organizations/members.html", context, status=status)


@page_view
def members(request: Request, organization_id) -> HttpResponse:
    return _members_page(request, _Scope(request, organization_id, READ))


@page_view
def member_add(request: Request, organization_id) -> HttpResponse:
    scope = _Scope(request, organization_id, MANAGE)
    form = f.MemberAddForm(posted(request), caller_role=scope.role)
    if submitted(request):
        membership = form.submit(
            lambda: membership_add(
                organization=scope.organization,
                wallet=form.cleaned_data["wallet_address"],
                role=form.cleaned_data["role"],
                granted_by_role=scope.role,
                actor=request.user,
            )
        )
        if membership is not None:
            address = form.cleaned_data["wallet_address"].address
            messages.success(request, f"{address} added as {membership.get_role_display()}.")
            return redirect_to(request, scope.url("members"))
    return form_page(
        request, "accounts/organizations/member_add.html", scope.context("members"), form
    )


def _membership(scope: _Scope, membership_id: uuid.UUID) -> Membership:
    membership = (
        Membership.objects.select_related("user")
        .filter(organization=scope.organization, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound()
    return membership


@require_POST
@page_view
def member_role(request: Request, organization_id, membership_id) -> HttpResponse:
    scope = _Scope(request, organization_id, MANAGE)
    membership = _membership(scope, membership_id)
    form = f.MemberRoleForm(request.POST, membership=membership, caller_role=scope.role)
    changed = form.submit(
        lambda: membership_role_change(
            membership=membership,
            role=form.cleaned_data["role"],
            changed_by_role=scope.role,
            actor=request.user,
        )
    )
    if changed is None:
        messages.error(request, "The role was not changed: see the member's row.")
        return _members_page(request, scope, refused=form)
    messages.success(request, f"Role changed to {changed.get_role_display()}.")
    return redirect_to(request, scope.url("members"))


@page_view
def member_remove(request: Request, organization_id, membership_id) -> HttpResponse:
    scope = _Scope(request, organization_id, MANAGE)
    membership = _membership(scope, membership_id)
    form = ConfirmForm(posted(request))
    if submitted(request):
        removed = form.submit(
            lambda: membership_remove(
                membership=membership, removed_by_role=scope.role, actor=request.user
            )
        )
        if removed is not None:
            messages.success(request, "Member removed.")
            return redirect_to(request, scope.url("members"))
    context = scope.context("members", membership=membership)
    return form_page(request, "accounts/organizations/member_remove.html", context, form)


@page_view
def member_transfer(request: Request, organization_id, membership_id) -> HttpResponse:
    scope = _Scope(request, organization_id, OWN)
    membership = _membership(scope, membership_id)
    form = ConfirmForm(posted(request))
    if submitted(request):
        receiver = form.submit(
            lambda: ownership_transfer(
                organization=scope.organization, to=membership, actor=request.user
            )
        )
        if receiver is not None:
            messages.success(request, "Ownership transferred. You are now an admin.")
            return redirect_to(request, scope.url("members"))
    context = scope.context("members", membership=membership)
    return form_page(request, "accounts/organizations/member_transfer.html", context, form)


# --- API keys ---------------------------------------------------------------------------


@page_view
def api_keys(request: Request, organization_id) -> HttpResponse:
    """The keys with each one's requests today against the daily quota, and the quota."""
    scope = _Scope(request, organization_id, MANAGE)
    organization = scope.organization
    form = f.DailyQuotaForm(
        posted(request), initial={"daily_request_quota": organization.daily_request_quota}
    )
    if submitted(request):
        updated = form.submit(
            lambda: organization_daily_quota_set(
                organization=organization,
                quota=form.cleaned_data["daily_request_quota"],
                actor=request.user,
            )
        )
        if updated is not None:
            messages.success(
                request,
                f"Daily quota saved: {updated.daily_request_quota:,} requests per key.",
            )
            return redirect_to(request, scope.url("api_keys"))
    keys = list(
        selectors.organization_api_keys(organization=organization).select_related("created_by")
    )
    used = api_keys_used_today(
        keys=[key for key in keys if key.is_active], limit=organization.daily_request_quota
    )
    context = scope.context(
        "api_keys",
        rows=[(key, used.get(key.pk) if used is not None else None) for key in keys],
        usage_known=used is not None,
        quota_resets_at=quota_day_end(),
    )
    return form_page(request, "accounts/organizations/api_keys.html", context, form)


@page_view
def api_key_create(request: Request, organization_id) -> HttpResponse:
    scope = _Scope(request, organization_id, MANAGE)
    form = f.ApiKeyForm(posted(request))
    if submitted(request):
        issued = form.submit(
            lambda: api_key_issue(
                organization=scope.organization,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
            )
        )
        if issued is not None:
            # Rendered, not redirected: a secret key must never be kept to show it later.
            context = scope.context("api_keys", issued=issued)
            response = render(request, "accounts/organizations/api_key_created.html", context)
            response["Cache-Control"] = "no-store"
            return response
    context = scope.context("api_keys")
    return form_page(request, "accounts/organizations/api_key_create.html", context, form)


def _api_key(scope: _Scope, key_id: uuid.UUID) -> ApiKey:
    api_key = (
        selectors.organization_api_keys(organization=scope.organization)
        .select_related("created_by")
        .filter(pk=key_id)
        .first()
    )
    if api_key is None:
        raise NotFound()
    return api_key


@page_view
def api_key_detail(request: Request, organization_id, key_id) -> HttpResponse:
    scope = _Scope(request, organization_id, MANAGE)
    context = scope.context("api_keys", api_key=_api_key(scope, key_id))
    return render(request, "accounts/organizations/api_key_detail.html", context)


@page_view
def api_key_revoke_page(request: Request, organization_id, key_id) -> HttpResponse:
    scope = _Scope(request, organization_id, MANAGE)
    api_key = _api_key(scope, key_id)
    form = ConfirmForm(posted(request))
    if (
        submitted(request)
        and form.submit(lambda: api_key_revoke(api_key=api_key, actor=request.user)) is not None
    ):
        messages.success(request, f"{api_key.name} revoked: it stops working now.")
        return redirect_to(request, scope.url("api_keys"))
    context = scope.context("api_keys", api_key=api_key)
    return form_page(request, "accounts/organizations/api_key_revoke.html", context, form)


# --- audit log --------------------------------------------------------------------------


@require_GET
@page_view
def audit_log(request: Request, organization_id) -> HttpResponse:
    scope = _Scope(request, organization_id, READ)
    people = [
        (str(membership.user_id), _person(membership))
        for membership in selectors.organization_members(organization=scope.organization)
    ]
    filters = f.AuditFilterForm(request.GET or None, members=people)
    events = selectors.organization_audit_events(
        organization=scope.organization, filters=filters.filters()
    )
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = scope.context("audit", filters=filters, page=page, query=query.urlencode())
    return render(request, "accounts/organizations/audit.html", context)


def _person(membership: Membership) -> str:
    wallets = list(membership.user.wallets.all())
    return wallets[0].address if wallets else membership.user.get_username()
