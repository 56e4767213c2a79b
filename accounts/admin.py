"""The operators' back office for people, wallets, organizations and API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q

from accounts.models import (
    ApiKey,
    Membership,
    NotificationSettings,
    Organization,
    Scope,
    SignInNonce,
    User,
    Wallet,
)
from accounts.services.api_keys import api_key_issue, api_key_revoke
from accounts.services.organizations import organization_daily_quota_set
from fabrknt.admin_base import ReadOnlyAdmin
from fabrknt.live.access import access_changed

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _UserCounts(TypedDict):
    _wallets: int
    _organizations: int


class _OrganizationCounts(TypedDict):
    _members: int
    _active_keys: int


class WalletInline(admin.TabularInline):
    model = Wallet
    extra = 0
    fields = ("kind", "namespace", "chain", "address", "created_at", "last_signed_in_at")
    readonly_fields = ("created_at", "last_signed_in_at")


class NotificationSettingsInline(admin.StackedInline):
    model = NotificationSettings
    can_delete = False
    fields = (
        "email",
        "email_verified_at",
        "weekly_report",
        "certificate_issued",
        "api_key_created",
        "updated_at",
    )
    # The address is the user's to set and verify; operators see it, they do not vouch for it.
    readonly_fields = ("email", "email_verified_at", "updated_at")


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("organization", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("organization",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (WalletInline, UserMembershipInline, NotificationSettingsInline)
    list_display = (
        "username",
        "wallet_count",
        "organization_count",
        "is_staff",
        "is_superuser",
        "is_active",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "wallets__namespace")
    search_fields = ("username", "notification_settings__email", "wallets__address")
    ordering = ("-date_joined",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _wallets=Count("wallets", distinct=True),
                _organizations=Count("memberships", distinct=True),
            )
        )

    @admin.display(description="wallets", ordering="_wallets")
    def wallet_count(self, user: WithAnnotations[User, _UserCounts]) -> int:
        return user._wallets

    @admin.display(description="organizations", ordering="_organizations")
    def organization_count(self, user: WithAnnotations[User, _UserCounts]) -> int:
        return user._organizations

    def save_related(self, request, form, formsets, change) -> None:
        """Active, staff and memberships may have changed: the user's open live
        connections re-check what they may see."""
        super().save_related(request, form, formsets, change)
        if change:
            access_changed(user_id=form.instance.pk)


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = (
        "address",
        "kind",
        "namespace",
        "chain",
        "user",
        "created_at",
        "last_signed_in_at",
    )
    list_filter = ("kind", "namespace", "chain")
    search_fields = ("address", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "last_signed_in_at")
    date_hierarchy = "created_at"


class OrganizationMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    inlines = (OrganizationMembershipInline,)
    list_display = (
        "name",
        "slug",
        "member_count",
        "active_key_count",
        "daily_request_quota",
        "created_at",
    )
    search_fields = ("name", "slug", "memberships__user__wallets__address")
    list_filter = ("created_at",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change) -> None:
        """A changed daily quota goes through the service (audit, keys' cached copies)."""
        if not change or "daily_request_quota" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        quota = obj.daily_request_quota
        obj.daily_request_quota = form.initial["daily_request_quota"]
        super().save_model(request, obj, form, change)
        organization_daily_quota_set(organization=obj, quota=quota, actor=request.user)

    def save_related(self, request, form, formsets, change) -> None:
        """Members removed or given another role re-check their open live connections."""
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            if formset.model is Membership:
                touched = [*formset.deleted_objects, *(m for m, _ in formset.changed_objects)]
                for membership in touched:
                    access_changed(user_id=membership.user_id)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _members=Count("memberships", distinct=True),
                _active_keys=Count(
                    "api_keys", filter=Q(api_keys__revoked_at__isnull=True), distinct=True
                ),
            )
        )

    @admin.display(description="members", ordering="_members")
    def member_count(self, organization: WithAnnotations[Organization, _OrganizationCounts]) -> int:
        return organization._members

    @admin.display(description="active API keys", ordering="_active_keys")
    def active_key_count(
        self, organization: WithAnnotations[Organization, _OrganizationCounts]
    ) -> int:
        return organization._active_keys


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("organization__name", "user__username", "user__wallets__address")
    list_select_related = ("user", "organization")
    raw_id_fields = ("user", "organization")


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiKey
        fields = ("organization", "name", "scopes")


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "prefix",
        "scopes",
        "is_active",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (RevokedFilter, "created_at")
    search_fields = ("name", "prefix", "organization__name", "organization__slug")
    list_select_related = ("organization",)
    raw_id_fields = ("organization",)
    actions = ("revoke_keys",)
    # Only the name may change after issue; the secret exists nowhere but with its holder.
    readonly_fields = (
        "organization",
        "prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("organization", "name", "scopes")
        return ("name", *self.readonly_fields)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting would skip the cache purge that revoking does; revoke instead.
        return False

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = api_key_issue(
            organization=form.cleaned_data["organization"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
        )
        # The admin goes on with `obj` (log entry, redirect): make it the issued row.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued.api_key, field.attname))
        obj._state.adding = False
        obj._state.db = issued.api_key._state.db
        self.message_user(
            request,
            f"API key created. Copy it now, it will not be shown again: {issued.key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request, queryset) -> None:
        revoked = sum(api_key_revoke(api_key=api_key) for api_key in queryset)
        self.message_user(request, f"{revoked} API key(s) revoked.", messages.SUCCESS)


@admin.register(SignInNonce)
class SignInNonceAdmin(ReadOnlyAdmin):
    list_display = ("value", "created_at", "expires_at", "used_at")
    list_filter = ("used_at", "expires_at")
    search_fields = ("value",)
    date_hierarchy = "created_at"
