"""The signed-in user's own pages ("Your account"): wallets, email and notifications,
signing out everywhere; and the two pages mail links open (verify, unsubscribe), which
need no sign-in: the signed link is the credential.

Every change is a service call (accounts.services.*); a refusal is shown on the page.
"""

from __future__ import annotations

import uuid
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors
from accounts.http import AuthenticatedHttpRequest
from accounts.models import NotificationKind
from accounts.pages.profile_forms import (
    EmailForm,
    NotificationPreferencesForm,
    WalletLinkForm,
)
from accounts.services.notifications import (
    EmailLinkInvalid,
    email_address_set,
    email_verify,
    notification_preferences_set,
    notification_unsubscribe,
)
from accounts.services.users import user_sign_out_everywhere
from accounts.services.wallet_links import wallet_link, wallet_link_statement, wallet_unlink
from accounts.templatetags.wallet_tags import short_address, signed_in_wallet_known
from fabrknt.pages.decorators import refusals_as_pages
from fabrknt.pages.forms import ConfirmForm

signin_required = login_required(login_url="signin")


def _account_page(
    request: AuthenticatedHttpRequest,
    *,
    link_form: WalletLinkForm | None = None,
    email_form: EmailForm | None = None,
    preferences_form: NotificationPreferencesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    notification_settings = selectors.user_notification_settings(user=user)
    wallets = list(selectors.user_wallets(user=user))
    signed_in_wallet_known(user, wallets)
    context = {
        "wallets": wallets,
        "link_statement": wallet_link_statement(user=user),
        "link_form": link_form or WalletLinkForm(),
        "email_enabled": settings.EMAIL_ENABLED,
        # The products' own sections (ACCOUNT_PAGE_SECTIONS): accounts knows none of them.
        # Called by the template as it renders (a callable without arguments).
        "product_sections": [
            partial(import_string(path), request) for path in settings.ACCOUNT_PAGE_SECTIONS
        ],
        "notification_settings": notification_settings,
        "email_form": email_form or EmailForm(initial={"email": notification_settings.email}),
        "preferences_form": preferences_form
        or NotificationPreferencesForm(
            initial={kind: notification_settings.wants(kind) for kind in NotificationKind.values}
        ),
    }
    return render(request, "accounts/profile/account.html", context, status=status)


@require_GET
@signin_required
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _account_page(request)


@require_POST
@signin_required
@refusals_as_pages
def wallet_link_submit(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = WalletLinkForm(request.POST)
    linked = form.submit(lambda: wallet_link(user=request.user, **form.cleaned_data))
    if linked is None:
        return _account_page(request, link_form=form, status=form.status)
    address = short_address(linked.wallet.address)
    if linked.created:
        messages.success(request, f"Wallet {address} is linked to your account.")
    else:
        messages.info(request, f"Wallet {address} was already linked to your account.")
    return redirect("account:home")


@require_http_methods(["GET", "POST"])
@signin_required
@refusals_as_pages
def wallet_unlink_confirm(request: AuthenticatedHttpRequest, wallet_id: uuid.UUID) -> HttpResponse:
    wallet = get_object_or_404(selectors.user_wallets(user=request.user), pk=wallet_id)
    form = ConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        # The service locks the user's wallets, so two unlinks never leave none.
        if form.submit(lambda: wallet_unlink(user=request.user, wallet_id=wallet.pk)):
            messages.success(request, f"Wallet {short_address(wallet.address)} is unlinked.")
            return redirect("account:home")
        status = form.status
    context = {"wallet": wallet, "form": form}
    return render(request, "accounts/profile/wallet_unlink.html", context, status=status)


@require_POST
@signin_required
@refusals_as_pages
def email_submit(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    saved = form.submit(
        lambda: email_address_set(user=request.user, email=form.cleaned_data["email"])
    )
    if saved is None:
        return _account_page(request, email_form=form, status=form.status)
    if not saved.email:
        messages.success(request, "Your email address is removed; no mail will be sent.")
    elif saved.email_verified:
        messages.info(request, f"{saved.email} is already your verified address.")
    else:
        messages.success(
            request, f"We sent a link to {saved.email}: open it to confirm the address."
        )
    return redirect("account:home")


@require_POST
@signin_required
@refusals_as_pages
def notifications_submit(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = NotificationPreferencesForm(request.POST)
    saved = form.submit(
        lambda: notification_preferences_set(user=request.user, wanted=form.wanted())
    )
    if saved is None:
        return _account_page(request, preferences_form=form, status=form.status)
    messages.success(request, "Your notification choices are saved.")
    return redirect("account:home")


@require_http_methods(["GET", "POST"])
@signin_required
def sign_out_everywhere(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ConfirmForm(request.POST or None)
    if (
        request.method == "POST"
        and form.submit(lambda: user_sign_out_everywhere(user=request.user)) is not None
    ):
        logout(request)  # this session ended with the others; clear its cookie now
        messages.success(
            request, "You are signed out of every session, and your API tokens are revoked."
        )
        return redirect("signin")
    return render(request, "accounts/profile/sign_out_everywhere.html", {"form": form})


@require_GET
def email_verify_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        verified = email_verify(token=token)
    except EmailLinkInvalid as refusal:
        context = {"title": "Link not valid", "detail": refusal.detail}
        return render(request, "accounts/profile/mail_link.html", context, status=400)
    context = {
        "title": "Email address confirmed",
        "detail": f"Notifications you choose will be sent to {verified.email}.",
    }
    return render(request, "accounts/profile/mail_link.html", context)


# A mail client's one-click unsubscribe (RFC 8058) POSTs here without our CSRF token; the
# signed token in the path is what authorises it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        # A GET only asks: mail scanners open links, and must not unsubscribe anyone.
        return render(request, "accounts/profile/unsubscribe.html", {"token": token})
    try:
        notification_unsubscribe(token=token)
    except EmailLinkInvalid as refusal:
        context = {"title": "Link not valid", "detail": refusal.detail}
        return render(request, "accounts/profile/mail_link.html", context, status=400)
    context = {
        "title": "Unsubscribed",
        "detail": "You will get no more of these mails. Choose what you get on your account page.",
    }
    return render(request, "accounts/profile/mail_link.html", context)
