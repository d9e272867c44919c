"""`python -m selfservice_local.demo [--base-url http://127.0.0.1:3000]`: walks every journey the product
has, against a running local run, and says what happened at each step. Exits non-zero if a step fails.

Journeys are groups of steps run in order; a failed step skips the rest of its journey, the other
journeys still run. To add one (cards, renewal, invoices, period end ...):

    cards = journey("Cards")

    @cards.step("Add a test card")
    def add_card(demo: Demo) -> str:
        body = demo.sao(demo.business).post("/payment-methods", {"token": ...}, expect=201)
        demo.notes["card_id"] = body["id"]
        return f"{body['brand']} ending {body['last4']}"

The demo leaves the tenants as it found them where the product allows it (every change is undone,
but what money buys stays: a renewal, which happens once per term, so a later run shows its refusal
instead, and added seats), so it can run again and again against the same local run.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

DEFAULT_BASE_URL = "http://127.0.0.1:3000"
SAO_ROLE = "service_account_owner"


class StepFailed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code"))
        return None


def http(base_url: str, method: str, path: str, body: Any = None, token: str | None = None,
         timeout: float = 30, headers: dict[str, str] | None = None) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method)  # noqa: S310 - http(s) base URL
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw, headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as refused:
        status, raw, headers = refused.code, refused.read(), dict(refused.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Reply(status, parsed, {k.lower(): v for k, v in headers.items()})


def download(url: str, timeout: float = 30) -> tuple[int, bytes, dict[str, str]]:
    """GET a URL as any HTTP client would (no token: a presigned URL is its own permission)."""
    if not url.startswith(("http://", "https://")):
        raise StepFailed(f"not an HTTP URL: {url[:80]}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked above
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(), {k.lower(): v for k, v in refused.headers.items()}


@dataclass
class Caller:
    """Requests as one user of one tenant, with a token from /_local/tokens."""

    demo: Demo
    token: str

    def call(self, method: str, path: str, body: Any = None, *, expect: int | tuple[int, ...] = 200,
             headers: dict[str, str] | None = None) -> Any:
        return self.send(method, path, body, expect=expect, headers=headers).body

    def send(self, method: str, path: str, body: Any = None, *, expect: int | tuple[int, ...] = 200,
             headers: dict[str, str] | None = None) -> Reply:
        """The whole reply (status, body, headers), once its status is one of `expect`."""
        reply = http(self.demo.base_url, method, path, body, self.token, headers=headers)
        expected = (expect,) if isinstance(expect, int) else expect
        if reply.status not in expected:
            raise StepFailed(f"{method} {path} answered {reply.status}, expected {' or '.join(map(str, expected))}: "
                             f"{json.dumps(reply.body, ensure_ascii=False)[:400]}")
        return reply

    def get(self, path: str, *, expect: int | tuple[int, ...] = 200) -> Any:
        return self.call("GET", path, expect=expect)

    def post(self, path: str, body: Any = None, *, expect: int | tuple[int, ...] = 200) -> Any:
        return self.call("POST", path, {} if body is None else body, expect=expect)

    def delete(self, path: str, *, expect: int | tuple[int, ...] = 200) -> Any:
        return self.call("DELETE", path, expect=expect)

    def refused(self, method: str, path: str, body: Any, status: int, code: str,
                headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Assert a refusal with the API's error shape; returns the error object."""
        reply = self.call(method, path, body, expect=status, headers=headers)
        error = reply.get("error") if isinstance(reply, dict) else None
        if not isinstance(error, dict) or error.get("code") != code:
            raise StepFailed(f"{method} {path}: expected error {code}, got {json.dumps(reply, ensure_ascii=False)[:400]}")
        return error


@dataclass
class Demo:
    base_url: str
    tenants: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)  # what earlier steps found, for later ones
    _tokens: dict[tuple[str, str | None, tuple[str, ...]], str] = field(default_factory=dict)

    def local(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        reply = http(self.base_url, method, "/_local" + path, body)
        if reply.status != expect:
            raise StepFailed(f"{method} /_local{path} answered {reply.status}: {reply.body}")
        return reply.body

    def as_user(self, tenant: dict[str, Any], sub: str | None = None, roles: tuple[str, ...] = (SAO_ROLE,)) -> Caller:
        key = (str(tenant["id"]), sub, roles)
        if key not in self._tokens:
            body: dict[str, Any] = {"tenant_id": tenant["id"], "roles": list(roles)}
            if sub is not None:
                body["sub"] = sub
            self._tokens[key] = self.local("POST", "/tokens", body)["token"]
        return Caller(self, self._tokens[key])

    def sao(self, tenant: dict[str, Any]) -> Caller:
        return self.as_user(tenant)

    def tenant(self, edition: str, channel: str = "direct", plan_term: str | None = None) -> dict[str, Any]:
        for tenant in self.tenants:
            if tenant["edition"] == edition and tenant["channel"] == channel and (
                    plan_term is None or plan_term in tenant["plan_id"]):
                return tenant
        raise StepFailed(f"no seeded {edition} tenant ({channel}{', ' + plan_term if plan_term else ''})")

    @property
    def business(self) -> dict[str, Any]:
        """The Business tenant most journeys use: the first direct one, monthly."""
        return self.tenant("business", "direct", "monthly")

    def subscription(self, tenant: dict[str, Any]) -> dict[str, Any]:
        account = self.sao(tenant).get("/account")
        subscriptions = account["subscriptions"]
        if not subscriptions:
            raise StepFailed(f"{tenant['name']} has no subscription")
        return dict(subscriptions[0])


Step = Callable[[Demo], str]


@dataclass
class Journey:
    title: str
    steps: list[tuple[str, Step]] = field(default_factory=list)

    def step(self, title: str) -> Callable[[Step], Step]:
        def register(function: Step) -> Step:
            self.steps.append((title, function))
            return function

        return register


JOURNEYS: list[Journey] = []


def journey(title: str) -> Journey:
    found = Journey(title)
    JOURNEYS.append(found)
    return found


def money(minor: int, currency: str) -> str:
    # Every catalog currency (EUR, SEK) has two decimals.
    return f"{minor / 100:,.2f} {currency}"


def day(iso: str | None) -> str:
    return iso[:10] if iso else "-"


# ---------------------------------------------------------------------------------------------------
# The journeys that exist now (issue 3). Later issues add theirs below, in the order a user meets them.

start = journey("The local run")


@start.step("It is up")
def health(demo: Demo) -> str:
    body = demo.local("GET", "/health")
    return f"{len(body['functions'])} functions, {len(body['routes'])} routes, clock at {body['clock']}"


@start.step("The demo tenants")
def tenants(demo: Demo) -> str:
    demo.tenants = demo.local("GET", "/tenants")["items"]
    if not demo.tenants:
        raise StepFailed("no seeded tenants (was the run started with --no-seed?)")
    return "; ".join(f"{t['name']} ({t['edition']}, {t['plan_id']}, {t['channel']})" for t in demo.tenants)


account = journey("Account")


@account.step("The SAO opens My Account")
def view_account(demo: Demo) -> str:
    tenant = demo.business
    body = demo.sao(tenant).get("/account")
    sub = body["subscriptions"][0]
    demo.notes["sub"] = sub
    billing = body.get("billing_info") or {}
    return (f"{body['tenant']['name']}: {sub['plan_id']}, {sub['seats']} seats, {sub['active_users']} active users, "
            f"term {day(sub['current_period_start'])} to {day(sub['current_period_end'])}, {sub['status']}; "
            f"billed to {billing.get('company_name')}, {billing.get('city')} {billing.get('country')}")


@account.step("The billing information")
def billing_info(demo: Demo) -> str:
    body = demo.sao(demo.business).get("/billing-info")
    return f"{body['company_name']}, {body['email']}, VAT ID {body.get('vat_id') or 'none'}"


quotes = journey("Quotes (free to ask, change nothing)")


def _sub(demo: Demo) -> dict[str, Any]:
    if "sub" not in demo.notes:
        demo.notes["sub"] = demo.subscription(demo.business)
    return dict(demo.notes["sub"])


@quotes.step("Renewal at the current seats")
def quote_renewal(demo: Demo) -> str:
    sub = _sub(demo)
    q = demo.sao(demo.business).get(f"/subscriptions/{sub['id']}/quote?change=renewal&seats={sub['seats']}")
    return (f"{q['seats']} seats: {money(q['monthly_amount'], q['currency'])} a month; next term "
            f"{money(q['amount_due'], q['currency'])} + tax {money(q['tax_amount'], q['currency'])} "
            f"({q['tax_rate']} %) = {money(q['total'], q['currency'])}")


@quotes.step("Three more seats now")
def quote_increase(demo: Demo) -> str:
    sub = _sub(demo)
    seats = sub["seats"] + 3
    q = demo.sao(demo.business).get(f"/subscriptions/{sub['id']}/quote?change=increase&seats={seats}")
    return (f"{seats} seats: due now {money(q['total'], q['currency'])} incl. tax for the rest of the term; "
            f"then {money(q['monthly_amount'], q['currency'])} a month")


@quotes.step("Fewer seats from the next term")
def quote_reduction(demo: Demo) -> str:
    sub = _sub(demo)
    target = max(sub["active_users"], 1)
    if target >= sub["seats"]:
        raise StepFailed(f"every seat is in use ({sub['active_users']} active users): no reduction to quote")
    demo.notes["reduction_target"] = target
    q = demo.sao(demo.business).get(f"/subscriptions/{sub['id']}/quote?change=reduction&seats={target}")
    ack = q.get("acknowledgement") or {}
    demo.notes["reduction_wording"] = ack.get("version")
    return (f"{target} seats from {day(q['effective_at'])}: {money(q['monthly_amount'], q['currency'])} a month; "
            f"the SAO must acknowledge \"{str(ack.get('text', ''))[:60]}...\" ({ack.get('version')})")


@quotes.step("Below the active users: refused")
def quote_below_active(demo: Demo) -> str:
    sub = _sub(demo)
    if sub["active_users"] <= 1:
        return "skipped: only one active user"
    error = demo.sao(demo.business).refused(
        "GET", f"/subscriptions/{sub['id']}/quote?change=reduction&seats={sub['active_users'] - 1}", None,
        409, "below_active_users")
    return str(error["message"])


reduce = journey("Reduce seats, then undo")


@reduce.step("Without ticking \"I understand\": nothing changes")
def reduce_unacknowledged(demo: Demo) -> str:
    sub = _sub(demo)
    target = demo.notes.get("reduction_target", max(sub["active_users"], 1))
    error = demo.sao(demo.business).refused("POST", f"/subscriptions/{sub['id']}/seat-reduction",
                                            {"seats": target, "acknowledged": False}, 409, "acknowledgement_required")
    return str(error["message"])


@reduce.step("Reduce, acknowledged")
def reduce_seats(demo: Demo) -> str:
    sub = _sub(demo)
    target = demo.notes.get("reduction_target", max(sub["active_users"], 1))
    body: dict[str, Any] = {"seats": target, "acknowledged": True}
    if demo.notes.get("reduction_wording"):
        body["acknowledgement_version"] = demo.notes["reduction_wording"]
    after = demo.sao(demo.business).post(f"/subscriptions/{sub['id']}/seat-reduction", body)
    scheduled = after.get("scheduled_reduction")
    if not scheduled or scheduled["seats"] != target:
        raise StepFailed(f"the subscription shows no reduction to {target}: {scheduled}")
    return f"{after['seats']} seats until {day(scheduled['effective_at'])}, then {scheduled['seats']}"


@reduce.step("Undo the reduction")
def undo_reduction(demo: Demo) -> str:
    sub = _sub(demo)
    after = demo.sao(demo.business).post(f"/subscriptions/{sub['id']}/seat-reduction/undo", {"acknowledged": True})
    if after.get("scheduled_reduction") is not None:
        raise StepFailed("the reduction is still scheduled")
    return f"back to {after['seats']} seats in the next term too"


cancel = journey("Cancel, then undo")


@cancel.step("Cancel, acknowledged")
def cancel_subscription(demo: Demo) -> str:
    sub = _sub(demo)
    after = demo.sao(demo.business).post(f"/subscriptions/{sub['id']}/cancellation",
                                         {"acknowledged": True, "reason": "Trying the demo"})
    if not after.get("cancel_at"):
        raise StepFailed("the subscription shows no cancellation date")
    return f"ends {day(after['cancel_at'])}; until then everything keeps working ({after['status']})"


@cancel.step("Undo the cancellation")
def undo_cancellation(demo: Demo) -> str:
    sub = _sub(demo)
    after = demo.sao(demo.business).post(f"/subscriptions/{sub['id']}/cancellation/undo", {"acknowledged": True})
    if after.get("cancel_at") is not None:
        raise StepFailed("the cancellation is still scheduled")
    return f"continues, renews {day(after['current_period_end'])}"


users = journey("Users and licences")


@users.step("List the users")
def list_users(demo: Demo) -> str:
    body = demo.sao(demo.business).get("/users")
    active = [u for u in body["items"] if u["status"] == "active"]
    return f"{len(active)} active of {len(body['items'])}: {', '.join(u['email'] for u in active[:3])} ..."


@users.step("Assign a licence to a new user")
def add_user(demo: Demo) -> str:
    email = f"demo.{secrets.token_hex(3)}@akerlund-oberg.example"
    user = demo.sao(demo.business).post("/users", {"email": email}, expect=201)
    demo.notes["new_user"] = user
    seats = demo.sao(demo.business).get("/account")["subscriptions"][0]
    return f"{user['email']} ({user['id']}): now {seats['active_users']} of {seats['seats']} seats in use"


@users.step("Remove that user: the licence frees after two minutes")
def remove_user(demo: Demo) -> str:
    user = demo.notes.get("new_user")
    if not user:
        raise StepFailed("no user from the previous step")
    removed = demo.sao(demo.business).delete(f"/users/{user['id']}")
    seats = demo.sao(demo.business).get("/account")["subscriptions"][0]
    demo.notes["active_before_catch_up"] = seats["active_users"]
    return f"{removed['status']} at {removed['removed_at']}; still counted: {seats['active_users']} active users"


@users.step("Two minutes later (clock +121 s): the count has caught up")
def licence_count_catches_up(demo: Demo) -> str:
    before = demo.notes.get("active_before_catch_up")
    clock = demo.local("POST", "/clock", {"advance_seconds": 121})
    seats = demo.sao(demo.business).get("/account")["subscriptions"][0]
    if before is not None and seats["active_users"] != before - 1:
        raise StepFailed(f"active users {seats['active_users']}, expected {before - 1}")
    return f"clock at {clock['now']}: {seats['active_users']} active users"


# ---------------------------------------------------------------------------------------------------
# Money (issue 4): cards, renewal, added seats, invoices and their PDFs. Card numbers are the sandbox
# gateway's test cards (SPEC 2.11) and go to its tokeniser only; the API sees tokens. Re-runnable: the
# extra cards are removed again, a term renews once (a later run shows the refusal instead), and seats
# can always be added.

CARD_HOLDER = "Karin Åkerlund"
MASTERCARD = "5555 5555 5555 4444"
DECLINED_AT_TOKENISATION = "4000 0000 0000 0002"
DECLINED_WHEN_CHARGED = "4000 0000 0000 0341"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_LINK_SECONDS = 300


def clock_now(demo: Demo) -> datetime:
    """The time every handler sees (the local run's clock, which the demo moves forward)."""
    return datetime.fromisoformat(str(demo.local("GET", "/clock")["now"]).replace("Z", "+00:00"))


def card(method: dict[str, Any]) -> str:
    brand = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}.get(method["brand"], "Card")
    return f"{brand} ending {method['last4']}"


def _card_line(method: dict[str, Any]) -> str:
    return (f"{card(method)} {method['exp_month']:02d}/{method['exp_year']}"
            + (" (default)" if method["is_default"] else ""))


def tokenise(demo: Demo, caller: Caller, number: str, name: str) -> dict[str, Any]:
    """The sandbox gateway's tokeniser: the only request that carries a card number."""
    year = clock_now(demo).year + 3
    return dict(caller.post("/sandbox/card-tokens", {"number": number, "exp_month": 12, "exp_year": year,
                                                      "cvc": "123", "name": name}, expect=201))


def save_card(demo: Demo, caller: Caller, number: str, name: str) -> dict[str, Any]:
    token = tokenise(demo, caller, number, name)["token"]
    return dict(caller.post("/payment-methods", {"token": token}, expect=(200, 201)))


def new_key() -> dict[str, str]:
    """A fresh Idempotency-Key header: one per payment, the same one for each retry of it."""
    return {IDEMPOTENCY_HEADER: f"demo-{secrets.token_hex(8)}"}


def _saved_cards(demo: Demo, tenant: dict[str, Any]) -> list[dict[str, Any]]:
    return list(demo.sao(tenant).get("/payment-methods")["items"])


def _invoice_ids(caller: Caller) -> list[str]:
    return [invoice["id"] for invoice in caller.get("/invoices?limit=100")["items"]]


cards = journey("Cards")


@cards.step("The saved cards: the seeded default")
def list_cards(demo: Demo) -> str:
    items = _saved_cards(demo, demo.business)
    default = next((c for c in items if c["is_default"]), None)
    if default is None:
        raise StepFailed("no default card (the seed saves one: was the run started with --no-seed?)")
    demo.notes["default_card"] = default
    return f"{len(items)}: " + ", ".join(_card_line(c) for c in items)


@cards.step("Tokenise 5555 5555 5555 4444 at the sandbox gateway (the API never sees the number)")
def tokenise_card(demo: Demo) -> str:
    body = tokenise(demo, demo.sao(demo.business), MASTERCARD, CARD_HOLDER)
    demo.notes["card_token"] = body["token"]
    return f"{body['token']}: {card(body)} {body['exp_month']:02d}/{body['exp_year']}, {body['name']}"


@cards.step("Save it by its token: the default stays the default")
def add_card(demo: Demo) -> str:
    added = demo.sao(demo.business).post("/payment-methods", {"token": demo.notes["card_token"]}, expect=(200, 201))
    if added["is_default"]:
        raise StepFailed(f"the second card became the default: {added}")
    demo.notes["extra_card"] = added
    return f"{card(added)} ({added['id']}); now " + ", ".join(_card_line(c) for c in _saved_cards(demo, demo.business))


@cards.step("Make it the default")
def make_extra_default(demo: Demo) -> str:
    extra = demo.notes["extra_card"]
    body = demo.sao(demo.business).post(f"/payment-methods/{extra['id']}/default")
    account = demo.sao(demo.business).get("/account")
    if not body["is_default"] or account["default_payment_method_id"] != extra["id"]:
        raise StepFailed(f"the default is still {account['default_payment_method_id']}")
    return f"{card(body)} is the default; My Account says {card(account['default_payment_method'])}"


@cards.step("Remove the default card: refused")
def remove_default_refused(demo: Demo) -> str:
    extra = demo.notes["extra_card"]
    error = demo.sao(demo.business).refused("DELETE", f"/payment-methods/{extra['id']}", None,
                                            409, "default_payment_method")
    return f"409 default_payment_method: {error['message']}"


@cards.step("Switch the default back")
def switch_default_back(demo: Demo) -> str:
    original = demo.notes["default_card"]
    body = demo.sao(demo.business).post(f"/payment-methods/{original['id']}/default")
    if not body["is_default"]:
        raise StepFailed(f"{card(original)} is not the default again")
    return f"{card(body)} is the default again"


@cards.step("Remove the extra card")
def remove_extra_card(demo: Demo) -> str:
    extra = demo.notes["extra_card"]
    removed = demo.sao(demo.business).delete(f"/payment-methods/{extra['id']}")
    left = _saved_cards(demo, demo.business)
    if any(c["id"] == extra["id"] for c in left):
        raise StepFailed(f"{card(extra)} is still saved")
    return f"{card(removed)} removed; left: " + ", ".join(_card_line(c) for c in left)


@cards.step("A card the gateway refuses (4000 0000 0000 0002): declined when tokenised, nothing saved")
def refused_at_tokenisation(demo: Demo) -> str:
    caller = demo.sao(demo.business)
    before = len(_saved_cards(demo, demo.business))
    year = clock_now(demo).year + 3
    error = caller.refused("POST", "/sandbox/card-tokens", {
        "number": DECLINED_AT_TOKENISATION, "exp_month": 12, "exp_year": year, "cvc": "123", "name": CARD_HOLDER,
    }, 402, "card_declined")
    after = len(_saved_cards(demo, demo.business))
    if after != before:
        raise StepFailed(f"{after} cards saved, {before} before")
    return f"402 card_declined: {error['message']}; still {after} card(s)"


renew = journey("Renew and pay")


def _annual(demo: Demo) -> dict[str, Any]:
    """The annual Business tenant renews (the monthly one keeps its reductions and cancellations, which a
    paid next term would refuse)."""
    return demo.tenant("business", "direct", "annual")


def _renewal_quote_path(sub: dict[str, Any]) -> str:
    return f"/subscriptions/{sub['id']}/quote?change=renewal&seats={sub['seats']}"


def _renewed(renewal: dict[str, Any]) -> str:
    return f"{day(renewal['period_start'])} to {day(renewal['period_end'])} at {renewal['seats']} seats"


@renew.step("Quote the next term at the current seats")
def quote_next_term(demo: Demo) -> str:
    tenant = _annual(demo)
    sub = demo.subscription(tenant)
    if sub.get("renewal"):
        error = demo.sao(tenant).refused("GET", _renewal_quote_path(sub), None, 409, "already_renewed")
        return (f"{tenant['name']}: already renewed for {_renewed(sub['renewal'])} (by an earlier run): "
                f"409 already_renewed, \"{error['message']}\" (a term renews once)")
    q = demo.sao(tenant).get(_renewal_quote_path(sub))
    cur = q["currency"]
    tax = "reverse charge" if q["reverse_charge"] else f"VAT {q['tax_rate']} %"
    return (f"{tenant['name']}: {q['seats']} seats for {day(q['period_start'])} to {day(q['period_end'])}: "
            f"{money(q['amount_due'], cur)} + {tax} {money(q['tax_amount'], cur)} = {money(q['total'], cur)}")


@renew.step("Pay with a card that is declined (4000 0000 0000 0341): 402, nothing changed")
def declined_payment(demo: Demo) -> str:
    tenant = _annual(demo)
    caller = demo.sao(tenant)
    before = demo.subscription(tenant)
    invoices_before = _invoice_ids(caller)
    declined = save_card(demo, caller, DECLINED_WHEN_CHARGED, "Jonas Müller")
    try:
        if before.get("renewal") is None:
            what, path = "the renewal", f"/subscriptions/{before['id']}/renewal"
            seats = before["seats"]
            q = caller.get(_renewal_quote_path(before))
        else:  # renewed already (an earlier run): a seat increase, which is always possible, is declined alike
            what, path = "one more seat (the next term is paid already)", f"/subscriptions/{before['id']}/seats"
            seats = before["seats"] + 1
            q = caller.get(f"/subscriptions/{before['id']}/quote?change=increase&seats={seats}")
        body = {"seats": seats, "payment_method_id": declined["id"], "expected_total": q["total"]}
        error = caller.refused("POST", path, body, 402, "card_declined", headers=new_key())
    finally:
        caller.delete(f"/payment-methods/{declined['id']}", expect=(200, 409))
    after = demo.subscription(tenant)
    if (after["seats"], after["renewal"]) != (before["seats"], before["renewal"]):
        raise StepFailed(f"the subscription changed: {before['seats']} -> {after['seats']} seats, "
                         f"renewal {before['renewal']} -> {after['renewal']}")
    if _invoice_ids(caller) != invoices_before:
        raise StepFailed("an invoice was issued for a declined payment")
    return (f"{what} with {card(declined)}: 402 {error['code']}, \"{error['message']}\"; still "
            f"{after['seats']} seats, {'renewed' if after['renewal'] else 'not renewed'}, "
            f"{len(invoices_before)} invoice(s), none issued; the card removed again")


@renew.step("Renew and pay with the default card (expected_total, Idempotency-Key)")
def renew_and_pay(demo: Demo) -> str:
    tenant = _annual(demo)
    caller = demo.sao(tenant)
    sub = demo.subscription(tenant)
    path = f"/subscriptions/{sub['id']}/renewal"
    if sub.get("renewal"):
        error = caller.refused("POST", path, {"seats": sub["seats"], "expected_total": 0}, 409, "already_renewed",
                               headers=new_key())
        return f"409 already_renewed, the expected refusal: \"{error['message']}\" ({_renewed(sub['renewal'])})"
    q = caller.get(_renewal_quote_path(sub))
    body, key = {"seats": sub["seats"], "expected_total": q["total"]}, new_key()
    paid = caller.send("POST", path, body, expect=201, headers=key).body
    invoice, renewal = paid["invoice"], paid["subscription"]["renewal"]
    demo.notes["renewal_payment"] = {"path": path, "body": body, "key": key, "invoice": invoice,
                                     "invoices": len(_invoice_ids(caller))}
    return (f"{invoice['number']} {invoice['status']}: {money(invoice['total'], invoice['currency'])} with "
            f"{card(invoice['payment'])}; next term {_renewed(renewal)}")


@renew.step("The same request again (a client's retry): the same invoice, charged once")
def replay_renewal(demo: Demo) -> str:
    paid = demo.notes.get("renewal_payment")
    if paid is None:
        return "nothing to replay: the renewal was paid before this run (Add seats below replays its own request)"
    caller = demo.sao(_annual(demo))
    reply = caller.send("POST", paid["path"], paid["body"], expect=201, headers=paid["key"])
    invoice = reply.body["invoice"]
    if invoice["id"] != paid["invoice"]["id"] or reply.headers.get("idempotency-replayed") != "true":
        raise StepFailed(f"not the first answer: {invoice['number']}, replayed={reply.headers.get('idempotency-replayed')}")
    count = len(_invoice_ids(caller))
    if count != paid["invoices"]:
        raise StepFailed(f"{count} invoices, {paid['invoices']} before the retry")
    return f"201 with Idempotency-Replayed: true, the same {invoice['number']}; still {count} invoice(s)"


more_seats = journey("Add seats")


@more_seats.step("Quote two more seats now: pro rata for the rest of the term")
def quote_more_seats(demo: Demo) -> str:
    sub = demo.subscription(demo.business)
    target = sub["seats"] + 2
    q = demo.sao(demo.business).get(f"/subscriptions/{sub['id']}/quote?change=increase&seats={target}")
    demo.notes["more_seats"] = {"sub": sub, "seats": target, "quote": q}
    cur, end = q["currency"], datetime.fromisoformat(sub["current_period_end"].replace("Z", "+00:00"))
    days = (end - clock_now(demo)).total_seconds() / 86400
    return (f"{sub['seats']} -> {target} seats: {money(q['amount_due'], cur)} for the {days:.1f} days left "
            f"(to {day(sub['current_period_end'])}) + VAT {q['tax_rate']} % {money(q['tax_amount'], cur)} = "
            f"{money(q['total'], cur)}; then {money(q['monthly_amount'], cur)} a month")


@more_seats.step("Add them and pay with the default card")
def add_more_seats(demo: Demo) -> str:
    wanted = demo.notes["more_seats"]
    sub, target = wanted["sub"], wanted["seats"]
    caller = demo.sao(demo.business)
    path = f"/subscriptions/{sub['id']}/seats"
    q = wanted["quote"]  # the total the SAO was shown
    for attempt in (1, 2):
        if attempt == 2:
            q = caller.get(f"/subscriptions/{sub['id']}/quote?change=increase&seats={target}")
        body, key = {"seats": target, "expected_total": q["total"]}, new_key()
        reply = caller.send("POST", path, body, expect=(200, 201, 409), headers=key)
        if reply.status == 409 and reply.error_code() == "price_changed" and attempt == 1:
            continue  # pro rata is by the second: the cent may have turned since the quote. Show the new one, pay anew.
        if reply.status == 409:
            raise StepFailed(f"POST {path} answered 409: {json.dumps(reply.body, ensure_ascii=False)[:400]}")
        break
    paid = reply.body
    invoice = paid["invoice"]
    demo.notes["seats_payment"] = {"path": path, "body": body, "key": key, "status": reply.status, "paid": paid}
    if paid["subscription"]["seats"] != target:
        raise StepFailed(f"{paid['subscription']['seats']} seats, expected {target}")
    if invoice is None:
        return f"{target} seats now; nothing was due"
    return (f"{target} seats now; {invoice['number']} {invoice['status']}: {money(invoice['total'], invoice['currency'])} "
            f"with {card(invoice['payment'])}")


@more_seats.step("The same request again (a client's retry): the same answer, charged once")
def replay_more_seats(demo: Demo) -> str:
    sent = demo.notes["seats_payment"]
    caller = demo.sao(demo.business)
    reply = caller.send("POST", sent["path"], sent["body"], expect=sent["status"], headers=sent["key"])
    if reply.body != sent["paid"] or reply.headers.get("idempotency-replayed") != "true":
        raise StepFailed(f"not the first answer (replayed={reply.headers.get('idempotency-replayed')})")
    invoice = reply.body["invoice"]
    return (f"{reply.status} with Idempotency-Replayed: true: the same "
            f"{invoice['number'] if invoice else 'answer'}, nothing charged or added again")


@more_seats.step("My Account shows the seats (added once), the invoice list the invoice")
def seats_and_invoice_shown(demo: Demo) -> str:
    sent = demo.notes["seats_payment"]
    sub = demo.sao(demo.business).get("/account")["subscriptions"][0]
    if sub["seats"] != sent["body"]["seats"]:
        raise StepFailed(f"My Account shows {sub['seats']} seats")
    invoice = sent["paid"]["invoice"]
    newest = demo.sao(demo.business).get("/invoices?limit=1")["items"]
    if invoice is not None and (not newest or newest[0]["id"] != invoice["id"]):
        raise StepFailed(f"the newest invoice is not {invoice['number']}")
    return (f"{sub['seats']} seats, {sub['active_users']} in use; newest invoice "
            f"{newest[0]['number'] if newest else '-'}")


invoices = journey("Invoices")


@invoices.step("List them, newest first")
def list_invoices(demo: Demo) -> str:
    body = demo.sao(demo.business).get("/invoices?limit=10")
    items = body["items"]
    if not items:
        raise StepFailed("no invoices (Add seats above issues one)")
    demo.notes["invoice"] = items[0]
    return (f"{len(items)}{'+' if body['next_cursor'] else ''}: "
            + ", ".join(f"{i['number']} {i['status']} {money(i['total'], i['currency'])} ({day(i['issued_at'])})"
                        for i in items[:3]) + (" ..." if len(items) > 3 else ""))


@invoices.step("Read one")
def read_invoice(demo: Demo) -> str:
    inv = demo.sao(demo.business).get(f"/invoices/{demo.notes['invoice']['id']}")
    buyer, cur = inv["buyer"] or {}, inv["currency"]
    tax = "reverse charge" if inv["reverse_charge"] else f"VAT {inv['tax_rate']} %"
    paid = f" with {card(inv['payment'])} on {day(inv['payment']['paid_at'])}" if inv["payment"] else ""
    return (f"{inv['number']} to {buyer.get('company_name')}, {buyer.get('city')} ({buyer.get('country')}): "
            f"\"{inv['lines'][0]['description']}\"{' and more' if len(inv['lines']) > 1 else ''}; "
            f"{money(inv['subtotal'], cur)} + {tax} {money(inv['tax_amount'], cur)} = {money(inv['total'], cur)}, "
            f"{inv['status']}{paid}")


@invoices.step("The PDF's download link: presigned, valid for at most 5 minutes")
def invoice_pdf_link(demo: Demo) -> str:
    link = demo.sao(demo.business).get(f"/invoices/{demo.notes['invoice']['id']}/pdf")
    now = clock_now(demo)  # the API's clock: the link's expiry is reckoned on it
    seconds = (datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00")) - now).total_seconds()
    if not 0 < seconds <= MAX_LINK_SECONDS + 5:
        raise StepFailed(f"the link expires in {seconds:.0f} s")
    demo.notes["pdf_link"] = link
    return f"{link['url'].split('?')[0]}?X-Amz-...; expires {link['expires_at']} (in {seconds:.0f} s)"


@invoices.step("Download it over HTTP, without a token")
def download_invoice_pdf(demo: Demo) -> str:
    number = demo.notes["invoice"]["number"]
    status, content, headers = download(demo.notes["pdf_link"]["url"])
    if status != 200:
        raise StepFailed(f"the download answered {status}: {content[:200]!r}")
    if not content.startswith(b"%PDF-"):
        raise StepFailed(f"not a PDF: {content[:16]!r}")
    disposition = headers.get("content-disposition", "")
    if f'filename="{number}.pdf"' not in disposition:
        raise StepFailed(f"not an attachment named {number}.pdf: {disposition!r}")
    return (f"{len(content):,} bytes of {headers.get('content-type')}, starting {content[:8].decode()}; "
            f"{disposition}")


period_end = journey("Period end: the term ends, the scheduled changes land")
# The monthly tenant's term ends: the clock is moved past it, which runs the applier (its schedule runs on
# the local clock). The reduction scheduled here undoes the seats Add seats bought, so the demo can run
# again and again; every run moves the clock one term on.
PERIOD_END_TYPES = ("subscription.reduction_applied", "subscription.term_started", "invoice.issued", "invoice.paid",
                    "subscription.renewed")


@period_end.step("Schedule fewer seats from the next term")
def schedule_reduction_for_the_term_end(demo: Demo) -> str:
    caller = demo.sao(demo.business)
    sub = demo.subscription(demo.business)
    target = max(sub["seats"] - 2, sub["active_users"], 1)
    demo.notes["period_end"] = {"sub": sub, "target": sub["seats"]}
    if target >= sub["seats"]:
        return f"every seat is in use ({sub['active_users']} active users): the term renews at {sub['seats']}"
    after = caller.post(f"/subscriptions/{sub['id']}/seat-reduction", {"seats": target, "acknowledged": True})
    demo.notes["period_end"]["target"] = target
    return (f"{sub['seats']} seats until {day(sub['current_period_end'])}, then "
            f"{after['scheduled_reduction']['seats']} ({sub['active_users']} users are active)")


@period_end.step("The clock passes the term's end: the applier runs on its schedule")
def pass_the_term_end(demo: Demo) -> str:
    sub = demo.notes["period_end"]["sub"]
    ends = datetime.fromisoformat(sub["current_period_end"].replace("Z", "+00:00"))
    seconds = max(0.0, (ends - clock_now(demo)).total_seconds()) + 600
    moved = demo.local("POST", "/clock", {"advance_seconds": seconds})
    summary = moved.get("period_end") or demo.local("POST", "/period-end/run")["result"]
    if not summary.get("renewed"):
        raise StepFailed(f"nothing was renewed: {summary}")
    return (f"clock at {moved['now']} (+{seconds / 86400:.1f} days); the applier: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items() if isinstance(v, int) and v and
                        not isinstance(v, bool)))


@period_end.step("POST /_local/period-end/run: nothing left to do")
def run_the_applier_again(demo: Demo) -> str:
    body = demo.local("POST", "/period-end/run")
    result = body["result"]
    if result.get("renewed") or result.get("failed"):
        raise StepFailed(f"the second run did something: {result}")
    return f"{result['processed']} due, in {body['elapsed_ms']} ms: each change is applied once"


@period_end.step("The term rolled and the reduction landed")
def term_rolled(demo: Demo) -> str:
    noted = demo.notes["period_end"]
    before, target = noted["sub"], noted["target"]
    sub = demo.subscription(demo.business)
    if sub["current_period_start"] != before["current_period_end"] or sub["status"] != "active":
        raise StepFailed(f"the term did not roll: {sub['status']}, {sub['current_period_start']}")
    if sub["seats"] != target or sub["scheduled_reduction"] is not None:
        raise StepFailed(f"{sub['seats']} seats, expected {target}; scheduled {sub['scheduled_reduction']}")
    return (f"{sub['status']}, {sub['seats']} seats (was {before['seats']}), term {day(sub['current_period_start'])} "
            f"to {day(sub['current_period_end'])}")


@period_end.step("The renewal's invoice was issued and paid with the default card")
def renewal_invoice(demo: Demo) -> str:
    before = demo.notes["period_end"]["sub"]
    newest = demo.sao(demo.business).get("/invoices?limit=1")["items"]
    if not newest or newest[0]["period_start"] != before["current_period_end"]:
        raise StepFailed(f"no invoice for the new term: {newest[:1]}")
    inv = newest[0]
    if inv["status"] != "paid":
        raise StepFailed(f"{inv['number']} is {inv['status']}")
    demo.notes["period_end"]["invoice"] = inv
    return (f"{inv['number']} {inv['status']}: {money(inv['total'], inv['currency'])} for {day(inv['period_start'])} "
            f"to {day(inv['period_end'])}, with {card(inv['payment'])}")


@period_end.step("The changes reached the bus")
def period_end_events(demo: Demo) -> str:
    tenant = demo.business
    history = demo.sao(tenant).get("/activity?limit=20")["items"]
    invoice_id = demo.notes["period_end"]["invoice"]["id"]
    wanted = {item["id"]: item["type"] for item in history if item["type"] in PERIOD_END_TYPES and (
        item["subject_id"] == invoice_id or item["data"].get("invoice_id") == invoice_id
        or item["data"].get("effective_at") == demo.notes["period_end"]["sub"]["current_period_end"])}
    expected = set(PERIOD_END_TYPES) - (set() if demo.notes["period_end"]["target"] < demo.notes["period_end"][
        "sub"]["seats"] else {"subscription.reduction_applied"})
    if not expected <= set(wanted.values()):
        raise StepFailed(f"the activity lacks {sorted(expected - set(wanted.values()))}")
    deadline = time.monotonic() + EVENTS_WAIT_SECONDS
    while True:
        body = demo.local("GET", f"/events?tenant_id={tenant['id']}&limit=1000")
        seen = {event["detail"]["id"] for event in body["items"]}
        if set(wanted) <= seen:
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"{len(set(wanted) - seen)} of {len(wanted)} period-end events did not reach the bus")
        time.sleep(0.25)
    return ", ".join(sorted(set(wanted.values()), key=PERIOD_END_TYPES.index)) + f" on {body['bus']}"


managed = journey("Upgrade, Enterprise and reseller")


@managed.step("Business SAO asks for an upgrade")
def upgrade_request(demo: Demo) -> str:
    sub = _sub(demo)
    receipt = demo.sao(demo.business).post(f"/subscriptions/{sub['id']}/upgrade-request",
                                           {"message": "We would like capacity-based pricing."}, expect=201)
    manager = receipt["account_manager"]
    return f"{receipt['status']}; {manager['name']} <{manager['email']}> will get in touch"


@managed.step("Enterprise SAO tries to reduce seats: the account manager handles it")
def enterprise_refusal(demo: Demo) -> str:
    tenant = demo.tenant("enterprise")
    sub = demo.subscription(tenant)
    error = demo.sao(tenant).refused("POST", f"/subscriptions/{sub['id']}/seat-reduction",
                                     {"seats": max(sub["active_users"], 1), "acknowledged": True},
                                     409, "managed_by_account_manager")
    return f"{error['message']} ({json.dumps(error.get('details'), ensure_ascii=False)})"


@managed.step("Reseller SAO tries to cancel: the reseller handles it")
def reseller_refusal(demo: Demo) -> str:
    tenant = demo.tenant("business", "reseller")
    sub = demo.subscription(tenant)
    error = demo.sao(tenant).refused("POST", f"/subscriptions/{sub['id']}/cancellation", {"acknowledged": True},
                                     409, "managed_by_reseller")
    return f"{error['message']} ({json.dumps(error.get('details'), ensure_ascii=False)})"


guards = journey("Who may do what")


@guards.step("No token: 401 from the gateway")
def no_token(demo: Demo) -> str:
    reply = http(demo.base_url, "GET", "/account")
    if reply.status != 401:
        raise StepFailed(f"GET /account without a token answered {reply.status}")
    return json.dumps(reply.body)


@guards.step("A user who is not the SAO: 403")
def not_sao(demo: Demo) -> str:
    member = demo.as_user(demo.business, sub="demo-member", roles=("member",))
    error = member.refused("GET", "/account", None, 403, "forbidden")
    return str(error["message"])


@guards.step("Another tenant's subscription: 404, as if it did not exist")
def other_tenant(demo: Demo) -> str:
    other = demo.tenant("business", "direct", "annual")
    foreign = demo.subscription(other)["id"]
    error = demo.sao(demo.business).refused("GET", f"/subscriptions/{foreign}", None, 404, "not_found")
    return str(error["message"])


activity = journey("Activity")


@activity.step("The audit history, newest first")
def activity_history(demo: Demo) -> str:
    body = demo.sao(demo.business).get("/activity")
    items = body["items"]
    if not items:
        raise StepFailed("no activity recorded")
    return f"{len(items)} entries: " + ", ".join(i["type"] for i in items[:8]) + (" ..." if len(items) > 8 else "")


bus = journey("Events on the bus")
EVENTS_WAIT_SECONDS = 10  # the local run reads the stream every half second


@bus.step("The latest changes, as a consumer of the bus received them")
def published_events(demo: Demo) -> str:
    tenant = demo.business
    changes = demo.sao(tenant).get("/activity")["items"][:10]
    if not changes:
        raise StepFailed("no activity to look for")
    wanted = {change["id"] for change in changes}
    deadline = time.monotonic() + EVENTS_WAIT_SECONDS
    while True:
        body = demo.local("GET", f"/events?tenant_id={tenant['id']}&limit=1000")
        found = [event for event in body["items"] if event["detail"]["id"] in wanted]
        missing = wanted - {event["detail"]["id"] for event in found}  # at least once: an id may come twice
        if not missing:
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"{len(missing)} of the latest {len(wanted)} changes did not reach the bus "
                             f"in {EVENTS_WAIT_SECONDS} s")
        time.sleep(0.25)
    first = found[0]
    return (f"{len(found)} events on {body['bus']} (source {first['source']}), newest first: "
            + ", ".join(event["detail-type"] for event in found[:6]) + (" ..." if len(found) > 6 else ""))


# ---------------------------------------------------------------------------------------------------


def _symbols(out: TextIO) -> tuple[str, str, str]:
    try:
        "✓✗".encode(out.encoding or "ascii")
        return "✓", "✗", "-"
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAIL", "-"


def run(base_url: str, out: TextIO = sys.stdout, journeys: list[Journey] | None = None) -> int:
    """Every step of every journey; the number of failed steps."""
    demo = Demo(base_url.rstrip("/"))
    ok, fail, skip = _symbols(out)
    failed = 0
    for group in journeys or JOURNEYS:
        out.write(f"\n{group.title}\n")
        broken = False
        for title, step in group.steps:
            if broken:
                out.write(f"  {skip} {title}: skipped (an earlier step of this journey failed)\n")
                continue
            try:
                what = step(demo)
                out.write(f"  {ok} {title}: {what}\n")
            except (StepFailed, KeyError, TypeError, ValueError, OSError) as problem:
                failed += 1
                broken = True
                out.write(f"  {fail} {title}: {type(problem).__name__ + ': ' if not isinstance(problem, StepFailed) else ''}"
                          f"{problem}\n")
            out.flush()
    total = sum(len(g.steps) for g in journeys or JOURNEYS)
    out.write(f"\n{total - failed} of {total} steps passed" + (f", {failed} failed\n" if failed else "\n"))
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selfservice_local.demo",
                                     description="Walk every journey against a running local run.")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"the local run (default {DEFAULT_BASE_URL})")
    args = parser.parse_args(argv)
    try:
        http(args.base_url, "GET", "/_local/health", timeout=5)
    except OSError:
        print(f"Nothing answers at {args.base_url}: start the local run first (make run).", file=sys.stderr)
        return 2
    return 1 if run(args.base_url) else 0


if __name__ == "__main__":
    sys.exit(main())
