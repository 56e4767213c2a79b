"""The forms of the "Your account" pages."""

from __future__ import annotations

from django import forms

from accounts.models import NotificationKind
from fabrknt.pages.forms import ServiceForm

# Far above any sign-in message or signature; the services parse what is inside.
_MESSAGE_MAX = 4096
_SIGNATURE_MAX = 1024


class WalletLinkForm(ServiceForm):
    """Filled in by static/js/link-wallet.js with what the wallet signed."""

    protocol = forms.ChoiceField(
        choices=[("siwe", "Ethereum"), ("siws", "Solana")], widget=forms.HiddenInput
    )
    message = forms.CharField(max_length=_MESSAGE_MAX, strip=False, widget=forms.HiddenInput)
    signature = forms.CharField(max_length=_SIGNATURE_MAX, widget=forms.HiddenInput)

    def clean_message(self) -> str:
        # Browsers send every line break of a submitted form value as CRLF (HTML's form
        # encoding); the wallet signed the message with LF.
        return str(self.cleaned_data["message"]).replace("\r\n", "\n")


class EmailForm(ServiceForm):
    # The address is checked by the service; leaving it blank removes it.
    email = forms.CharField(
        label="Email address",
        required=False,
        max_length=320,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class NotificationPreferencesForm(ServiceForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(label=kind.label, required=False)

    def wanted(self) -> dict[str, bool]:
        return {kind.value: self.cleaned_data[kind.value] for kind in NotificationKind}
