"""accounts/services/sign_in.py below the API: the siwe package, RPC lookup, nonce races."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test import override_settings
from web3 import HTTPProvider

from accounts.models import SignInNonce
from accounts.services.sign_in import (
    SignInRefused,
    _nonce_spend,
    chain_rpc_provider,
    sign_in_nonce_issue,
    siwe_sign_in,
)
from accounts.tests.signing import new_evm_account, personal_sign, siwe_text


def test_siwe_package_imports_parses_and_verifies():
    # siwe 4.4.0 fails at import with abnf 2.9.x; this keeps the pinned pair honest.
    import siwe

    account = new_evm_account()
    text = siwe_text(address=account.address, nonce="abcdEFGH1234")
    message = siwe.SiweMessage.from_message(text)
    message.verify(personal_sign(account, text))
    with pytest.raises(siwe.InvalidSignature):
        message.verify(personal_sign(new_evm_account(), text))
    assert message.prepare_message() == text


@override_settings(CHAIN_RPC_URLS={"eip155:8453": "http://127.0.0.1:9/rpc"})
def test_rpc_provider_comes_from_chain_rpc_urls():
    provider = chain_rpc_provider(8453)
    assert isinstance(provider, HTTPProvider)
    assert provider.endpoint_uri == "http://127.0.0.1:9/rpc"
    assert chain_rpc_provider(1) is None


@pytest.mark.django_db
def test_a_nonce_is_spent_once():
    nonce = sign_in_nonce_issue()
    _nonce_spend(value=nonce.value, now=nonce.created_at)
    with pytest.raises(SignInRefused, match="Nonce already used."):
        _nonce_spend(value=nonce.value, now=nonce.created_at)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_with_one_nonce_spend_it_exactly_once():
    nonce = sign_in_nonce_issue()
    attempts = 6
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            _nonce_spend(value=nonce.value, now=nonce.created_at)
            outcomes.append("spent")
        except SignInRefused as refusal:
            outcomes.append(refusal.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["Nonce already used."] * (attempts - 1) + ["spent"]
    assert SignInNonce.objects.get().used_at is not None


HOSTILE_MESSAGES = {
    "one long word": "x" * 4096,
    "a long domain": "a." * 2000 + " wants you to sign in with your Ethereum account:\n",
    "digits": "1" * 4096,
    "a long uri": (
        "testserver wants you to sign in with your Ethereum account:\n0x"
        + "a" * 40
        + "\n\nURI: "
        + "a:" * 2000
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE_MESSAGES))
def test_a_hostile_message_is_refused_in_linear_time(case):
    # siwe's ABNF parser spends seconds of CPU on each of these (quadratic backtracking),
    # which an anonymous caller could repeat; refusing one must cost next to nothing.
    started = time.process_time()

    with pytest.raises(SignInRefused, match="Malformed EIP-4361 message."):
        siwe_sign_in(message=HOSTILE_MESSAGES[case], signature="0x" + "00" * 65)

    assert time.process_time() - started < 0.5


@pytest.mark.django_db
def test_a_message_that_is_not_exactly_the_canonical_text_is_refused():
    account = new_evm_account()
    nonce = sign_in_nonce_issue().value
    text = siwe_text(address=account.address, nonce=nonce) + "\n"  # the regex admits this

    with pytest.raises(SignInRefused, match="Malformed EIP-4361 message."):
        siwe_sign_in(message=text, signature=personal_sign(account, text))

    assert SignInNonce.objects.get(value=nonce).used_at is None
