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

The demo leaves the tenants as it found them where the product allows it (every change is undone),
so it can run again and again against the same local run.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
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
         timeout: float = 30) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method)  # noqa: S310 - http(s) base URL
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
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


@dataclass
class Caller:
    """Requests as one user of one tenant, with a token from /_local/tokens."""

    demo: Demo
    token: str

    def call(self, method: str, path: str, body: Any = None, *, expect: int | tuple[int, ...] = 200) -> Any:
        reply = http(self.demo.base_url, method, path, body, self.token)
        expected = (expect,) if isinstance(expect, int) else expect
        if reply.status not in expected:
            raise StepFailed(f"{method} {path} answered {reply.status}, expected {' or '.join(map(str, expected))}: "
                             f"{json.dumps(reply.body, ensure_ascii=False)[:400]}")
        return reply.body

    def get(self, path: str, *, expect: int | tuple[int, ...] = 200) -> Any:
        return self.call("GET", path, expect=expect)

    def post(self, path: str, body: Any = None, *, expect: int | tuple[int, ...] = 200) -> Any:
        return self.call("POST", path, {} if body is None else body, expect=expect)

    def delete(self, path: str, *, expect: int | tuple[int, ...] = 200) -> Any:
        return self.call("DELETE", path, expect=expect)

    def refused(self, method: str, path: str, body: Any, status: int, code: str) -> dict[str, Any]:
        """Assert a refusal with the API's error shape; returns the error object."""
        reply = self.call(method, path, body, expect=status)
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
