"""`make run PORT=…`: a wallet signs in on the development server whatever port it binds.

The server is started as the Makefile's `run` starts it (DEV_SERVER_HOST and
DEV_SERVER_PORT in its environment, `runserver --noreload`, the embedded defaults) on a
free port, never 8000; the page's script names `location.host` as the sign-in message's
domain, so the settings' development defaults must allow that host and port.
"""

from __future__ import annotations

import requests

from accounts.tests.signing import new_evm_account, personal_sign, siwe_text


def test_a_wallet_signs_in_on_the_port_make_run_was_given(development_server):
    server = development_server()
    browser = requests.Session()
    for host in ("127.0.0.1", "localhost"):
        origin = f"http://{host}:{server.port}"
        browser.cookies.clear()
        assert browser.get(f"{origin}/signin", timeout=30).status_code == 200
        nonce = browser.get(f"{origin}/api/v1/auth/nonce", timeout=30).json()["nonce"]
        wallet = new_evm_account()
        # What static/js/signin.js builds: the domain is location.host, the URI its origin.
        message = siwe_text(address=wallet.address, nonce=nonce, domain=f"{host}:{server.port}")

        signed_in = browser.post(
            f"{origin}/api/v1/auth/siwe",
            json={"message": message, "signature": personal_sign(wallet, message)},
            headers={"X-CSRFToken": browser.cookies["csrftoken"], "Origin": origin},
            timeout=30,
        )

        assert signed_in.status_code == 200, signed_in.text
        dashboard = browser.get(f"{origin}/trace/", allow_redirects=False, timeout=30)
        assert dashboard.status_code == 200, dashboard.headers.get("Location")
