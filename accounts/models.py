"""People, their wallets, the organizations they work in, and the keys those hand out."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

# Django's own salt for the hash a session keeps of its user (AbstractBaseUser).
_SESSION_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"


class User(AbstractUser):
    """A person. Wallet sign-in creates one per first wallet; no password is needed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # "Sign out everywhere" bumps it. Every session keeps a hash of its user, which Django
    # checks on each request and ends the session when it no longer matches (as after a
    # password change); the generation is part of that hash, so every session ends at once.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return self.username

    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, *, secret: str | bytes | None) -> str:
        # Generation 0 hashes exactly what Django does, so no session predating the field ends.
        material = self.password
        if self.session_generation:
            material = f"{self.password}\n{self.session_generation}"
        return salted_hmac(
            _SESSION_HASH_SALT, material, secret=secret, algorithm="sha256"
        ).hexdigest()


class WalletKind(models.TextChoices):
    EOA = "eoa", "Externally owned account"
    CONTRACT = "contract", "Contract wallet (EIP-1271)"


class Wallet(models.Model):
    """A blockchain address a user proved they control by signing in with it.

    An externally owned account (EOA) is a key: the same account on every chain of its
    CAIP-2 namespace ("eip155", "solana"), so the namespace and the address make it one
    wallet, and `chain` is the chain it first signed in on. A contract wallet (EIP-1271,
    a Safe) is code on one chain: the same address on another chain may be another
    contract with other owners, so the chain and the address make it one wallet.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="wallets")
    kind = models.CharField(max_length=8, choices=WalletKind.choices, default=WalletKind.EOA)
    namespace = models.CharField(max_length=16)
    chain = models.CharField(
        max_length=64, help_text="CAIP-2: an EOA's first sign-in chain; a contract's own chain"
    )
    address = models.CharField(max_length=64, help_text="EIP-55 checksummed, or base58")
    created_at = models.DateTimeField(auto_now_add=True)
    last_signed_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "address"],
                condition=Q(kind=WalletKind.EOA),
                name="wallet_unique_eoa_namespace_address",
            ),
            models.UniqueConstraint(
                fields=["chain", "address"],
                condition=Q(kind=WalletKind.CONTRACT),
                name="wallet_unique_contract_chain_address",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=WalletKind.values), name="wallet_kind_valid"
            ),
            # EIP-1271 is an EVM standard; Solana wallets sign with their key.
            models.CheckConstraint(
                condition=Q(kind=WalletKind.EOA) | Q(namespace="eip155"),
                name="wallet_contract_is_evm",
            ),
        ]
        indexes = [models.Index(fields=["address"])]

    def __str__(self) -> str:
        return f"{self.chain}:{self.address}"


class OrganizationQuerySet(models.QuerySet):
    def alive(self) -> OrganizationQuerySet:
        return self.filter(deleted_at__isnull=True)


class NotificationKind(models.TextChoices):
    """Mails a user may receive; each is a switch of NotificationSettings by this name."""

    WEEKLY_REPORT = "weekly_report", "Weekly report of your projects"
    CERTIFICATE_ISSUED = "certificate_issued", "A growth certificate was issued"
    API_KEY_CREATED = "api_key_created", "An API key was created in your organization"
    FABRIC_OFFERS = "fabric_offers", "A step of a FABRIC offer (made, countered, accepted…)"
    FABRIC_MESSAGES = "fabric_messages", "A new message about a FABRIC listing"


class NotificationSettings(models.Model):
    """A user's optional email address, and which notifications it receives.

    Nothing is mailed to an address until its owner follows the link of the verification
    mail (`email_verified_at`); changing the address makes it unverified again.
    """

    user = models.OneToOneField(
        User, primary_key=True, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email = models.EmailField(blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # When the last verification mail was asked for (resends are spaced out).
    verification_sent_at = models.DateTimeField(null=True, blank=True)
    weekly_report = models.BooleanField(default=True)
    certificate_issued = models.BooleanField(default=True)
    api_key_created = models.BooleanField(default=True)
    fabric_offers = models.BooleanField(default=True)
    fabric_messages = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(email_verified_at__isnull=True) | ~Q(email=""),
                name="notification_settings_verified_has_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.email or 'no email'}"

    @property
    def email_verified(self) -> bool:
        return bool(self.email) and self.email_verified_at is not None

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, NotificationKind(kind).value))


# Requests a UTC day that each `read` or `write` key may make (its usage plan), unless the
# organization's owners or the operators set another figure in these bounds.
DAILY_REQUEST_QUOTA_DEFAULT = 100_000
DAILY_REQUEST_QUOTA_MAX = 1_000_000_000


class Organization(models.Model):
    """A team. Deletion is soft (`deleted_at`): a deleted organization is hidden from every
    page and API answer, its keys are revoked, and its rows stay for the operators."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")
    # Deletion needs a recent export: the owners keep their data before it disappears.
    exported_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The database default too: rows written by code that predates the column (a release
    # rolling out, a historical model in a migration) still get the quota.
    daily_request_quota = models.PositiveIntegerField(
        default=DAILY_REQUEST_QUOTA_DEFAULT,
        db_default=DAILY_REQUEST_QUOTA_DEFAULT,
        validators=[MinValueValidator(1), MaxValueValidator(DAILY_REQUEST_QUOTA_MAX)],
        help_text="Requests a UTC day for each read or write API key (ingest keys: per minute).",
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_request_quota__gte=1)
                & Q(daily_request_quota__lte=DAILY_REQUEST_QUOTA_MAX),
                name="organization_daily_request_quota_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Higher rank can do everything a lower one can.
ROLE_RANK: dict[str, int] = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Scope(models.TextChoices):
    INGEST = "ingest", "Ingest"
    READ = "read", "Read"
    WRITE = "write", "Write"


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)

    def with_daily_quota(self) -> ApiKeyQuerySet:
        """Each key with its organization's `daily_request_quota`, in the same query: what
        authentication loads, so the rate limiter has the quota without a second read."""
        return self.annotate(daily_request_quota=models.F("organization__daily_request_quota"))


class ApiKey(models.Model):
    """An organization's key for servers and partners. Only a hash of the secret is kept.

    The key reads `fab_<prefix>_<secret>`; the prefix finds the row, the SHA-256 of the
    whole key proves it. Keys carry 256 random bits, so a slow password hash adds nothing.
    """

    PREFIX_LENGTH = 8

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The whole key of an `ingest`-only key: it sits in public pages anyway (fab.js), so
    # members may see it again. Empty for secret keys, which exist only as `key_hash`.
    publishable_key = models.CharField(max_length=128, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    # The organization's quota, on keys loaded `with_daily_quota` (authenticated keys).
    daily_request_quota: int

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def generate() -> tuple[str, str]:
        """A fresh (prefix, full key) pair."""
        prefix = secrets.token_hex(ApiKey.PREFIX_LENGTH // 2)
        return prefix, f"fab_{prefix}_{secrets.token_urlsafe(32)}"

    @staticmethod
    def prefix_of(key: str) -> str | None:
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "fab" or len(parts[1]) != ApiKey.PREFIX_LENGTH:
            return None
        return parts[1]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @staticmethod
    def is_publishable(scopes: list[str]) -> bool:
        """An `ingest`-only key may sit in public pages; any other scope makes it secret."""
        return set(scopes) == {Scope.INGEST}

    @property
    def has_daily_quota(self) -> bool:
        """`read` and `write` keys have a daily quota; `ingest` keys only their per-minute
        limit (a page's snippet must not go dark at midnight's count)."""
        return self.has_scope(Scope.READ) or self.has_scope(Scope.WRITE)


class SignInNonce(models.Model):
    """A nonce this server issued for one wallet sign-in; the first attempt spends it."""

    value = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.value


class AuditAction(models.TextChoices):
    ORGANIZATION_CREATED = "organization.created", "Organization created"
    ORGANIZATION_UPDATED = "organization.updated", "Organization settings changed"
    ORGANIZATION_EXPORTED = "organization.exported", "Organization data exported"
    ORGANIZATION_DELETED = "organization.deleted", "Organization deleted"
    MEMBER_ADDED = "member.added", "Member added"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Member role changed"
    MEMBER_REMOVED = "member.removed", "Member removed"
    OWNERSHIP_TRANSFERRED = "ownership.transferred", "Ownership transferred"
    API_KEY_CREATED = "api_key.created", "API key created"
    API_KEY_REVOKED = "api_key.revoked", "API key revoked"
    PROJECT_CREATED = "project.created", "Project created"
    PROJECT_UPDATED = "project.updated", "Project edited"
    PROJECT_ARCHIVED = "project.archived", "Project archived"
    CAMPAIGN_CREATED = "campaign.created", "Campaign created"
    CAMPAIGN_UPDATED = "campaign.updated", "Campaign changed"
    CERTIFICATE_ISSUED = "certificate.issued", "Certificate issued"
    PULSE_TEAM_CREATED = "pulse_team.created", "PULSE team created"
    PULSE_TEAM_SECRET_ROTATED = "pulse_team.secret_rotated", "PULSE webhook secret rotated"
    PULSE_TEAM_GITHUB_LINKED = "pulse_team.github_linked", "GitHub App linked to a PULSE team"


class AuditEvent(models.Model):
    """One action taken in an organization: who, what, on which object, when. Written by
    the services that act (`accounts.services.audit.audit_record`), never edited."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    # None: done by an API key or by the platform itself (details say which).
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=64)
    # The target's name when it happened: it survives a rename or a removal.
    target_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-at"], name="audit_organization_at"),
            models.Index(fields=["organization", "action", "-at"], name="audit_org_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"
