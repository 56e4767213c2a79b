"""A local server answering as Stripe's API does (https://docs.stripe.com/api/charges/list):
`GET /v1/charges` with `limit`, `created[gte]`/`created[lt]` and `starting_after`, newest
first, as a list object (`object: "list"`, `url`, `has_more`, `data`) of charge objects;
errors as Stripe's error objects (401 for a key it does not know, 403 for a restricted key
without the Charges permission). `STRIPE_API_URL` points at it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

KEY = "rk_test_51PqRsTuVwXyZaBcDeFgHiJkLmNoPq0123456789abcdEFGH"
KEY_WITHOUT_CHARGES = "rk_test_51PqRsTuVwXyZaBcDeFgHiJkLmNoPq0123456789noCHARGES"
ACCOUNT = "acct_1PqRsTuVwXyZaBcD"


def charge(
    charge_id: str,
    created: int,
    amount: int,
    *,
    currency: str = "usd",
    refunded_amount: int = 0,
    paid: bool = True,
    status: str = "succeeded",
) -> dict[str, Any]:
    """A charge object as Stripe returns it (the fields a list shows, trimmed of the
    payment method's details)."""
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if paid else 0,
        "amount_refunded": refunded_amount,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": f"txn_{charge_id[3:]}" if paid else None,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "calculated_statement_descriptor": "FABRKNT",
        "captured": paid,
        "created": created,
        "currency": currency,
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_code": None if paid else "card_declined",
        "failure_message": None if paid else "Your card was declined.",
        "fraud_details": {},
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": {
            "network_status": "approved_by_network" if paid else "declined_by_network",
            "reason": None if paid else "generic_decline",
            "risk_level": "normal",
            "seller_message": "Payment complete."
            if paid
            else "The bank did not return any further details with this decline.",
            "type": "authorized" if paid else "issuer_declined",
        },
        "paid": paid,
        "payment_intent": f"pi_{charge_id[3:]}",
        "payment_method": f"pm_{charge_id[3:]}",
        "receipt_url": None,
        "refunded": refunded_amount >= amount and paid,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status if paid else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


@dataclass
class Stripe:
    url: str = ""
    charges: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": "invalid_request_error"}}


def _answer(stripe: Stripe, key: str, path: str, query: dict[str, list[str]]):
    if key == KEY_WITHOUT_CHARGES:
        return _error(
            403,
            f"The provided key '{key[:8]}***********{key[-4:]}' does not have the required "
            f"permissions for this endpoint on account '{ACCOUNT}'. Having the "
            "'rak_charge_read' permission would allow this request to continue.",
        )
    if key != KEY:
        return _error(401, f"Invalid API Key provided: {key[:8]}***********{key[-4:]}")
    if path != "/v1/charges":
        return _error(404, f"Unrecognized request URL (GET: {path}).")
    limit = int(query.get("limit", ["10"])[0])
    gte = int(query.get("created[gte]", ["0"])[0])
    lt = int(query.get("created[lt]", [str(2**62)])[0])
    listed = sorted(
        (c for c in stripe.charges if gte <= c["created"] < lt),
        key=lambda c: (c["created"], c["id"]),
        reverse=True,
    )
    after = query.get("starting_after", [None])[0]
    if after is not None:
        position = [c["id"] for c in listed].index(after)
        listed = listed[position + 1 :]
    return 200, {
        "object": "list",
        "url": "/v1/charges",
        "has_more": len(listed) > limit,
        "data": listed[:limit],
    }


class _Handler(BaseHTTPRequestHandler):
    stripe: Stripe

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        self.stripe.requests.append({"path": parts.path, "query": query, "key": key})
        status, body = _answer(self.stripe, key, parts.path, query)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{len(self.stripe.requests):014d}")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(name="stripe_server")
def stripe_server_fixture(settings) -> Iterator[Stripe]:
    stripe = Stripe()
    handler = type("Handler", (_Handler,), {"stripe": stripe})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    stripe.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_API_URL = stripe.url
    try:
        yield stripe
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
