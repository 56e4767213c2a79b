"""The "Your account" pages, mounted under /account/."""

from __future__ import annotations

from django.urls import path

from accounts.pages import profile

app_name = "account"

urlpatterns = [
    path("", profile.account, name="home"),
    path("wallets/link", profile.wallet_link_submit, name="wallet-link"),
    path("wallets/<uuid:wallet_id>/unlink", profile.wallet_unlink_confirm, name="wallet-unlink"),
    path("email", profile.email_submit, name="email"),
    path("email/verify/<str:token>", profile.email_verify_link, name="email-verify"),
    path("notifications", profile.notifications_submit, name="notifications"),
    path("sign-out-everywhere", profile.sign_out_everywhere, name="sign-out-everywhere"),
    path("unsubscribe/<str:token>", profile.unsubscribe, name="unsubscribe"),
]
