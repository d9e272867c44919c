"""The repository contract: one set of assertions run against the in-memory fake (what the unit tests
use) and the DynamoDB adapter on moto (the table created from template.yaml), so the fake cannot drift
from the real store. DynamoDB-only properties (round trips, the due-work index) follow at the end."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from selfservice.adapters import dynamo_items as items
from selfservice.adapters.dynamo import DynamoRepository
from selfservice.adapters.memory import InMemoryRepository
from selfservice.domain.catalog import Seller
from selfservice.domain.errors import ConcurrentUpdate, InvalidInput
from selfservice.domain.ids import new_id
from selfservice.domain.invoices import Buyer, Invoice, InvoicePayment, format_number
from selfservice.domain.model import (
    Acknowledgement,
    AuditEvent,
    BillingInfo,
    ChargeLine,
    Contact,
    PaymentMethod,
    PendingPayment,
    PrepaidRenewal,
    ScheduledCancellation,
    ScheduledReduction,
    Subscription,
    Tenant,
    TenantState,
    User,
)
from selfservice.ports import INVOICE_SEQUENCE, Changeset, Page, Repository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T0 = datetime(2026, 3, 10, 9, 0, 0, 123456, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
MANAGER = Contact("account_manager", "Astrid Manager", "astrid@nordlys.example")
RESELLER = Contact("reseller", "Fjord Resellers AS", "sales@fjord.example")


# --- builders -------------------------------------------------------------------------------------

def tenant(tenant_id: str = "ten_acme", *, reseller: Contact | None = None) -> Tenant:
    return Tenant(tenant_id, f"{tenant_id} Ltd", f"sao-{tenant_id}", MANAGER, reseller, T0)


def billing(tenant_id: str = "ten_acme", **changes: Any) -> BillingInfo:
    info = BillingInfo(tenant_id, "Acme AB", "billing@acme.example", "Storgatan 1", "Box 7", "111 22",
                       "Stockholm", "Stockholms län", "SE", "SE556677889901", "PO-4711", T0)
    return replace(info, **changes)


def ack(by: str = "sao-ten_acme", at: datetime = T0) -> Acknowledgement:
    return Acknowledgement("seat-reduction/v1", by, at)


def subscription(sub_id: str = "sub_1", tenant_id: str = "ten_acme", **changes: Any) -> Subscription:
    sub = Subscription(
        tenant_id, sub_id, "business-monthly-eur", "business", "direct", "EUR", "monthly", 10, "active",
        datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC),
        datetime(2026, 1, 30, 12, 0, 0, 1, tzinfo=UTC),
    )
    return replace(sub, **changes)


def user(user_id: str, tenant_id: str = "ten_acme", **changes: Any) -> User:
    return replace(User(tenant_id, user_id, f"{user_id}@acme.example", "active", T0), **changes)


def event(tenant_id: str = "ten_acme", at: datetime = T0, **changes: Any) -> AuditEvent:
    e = AuditEvent(tenant_id, new_id("evt", at), "subscription.reduction_scheduled", at, "sao", "sub_1",
                   before={"seats": 10}, after={"seats": 8})
    return replace(e, **changes)


def provision(repo: Repository, tenant_id: str = "ten_acme", *extra: Subscription | User) -> TenantState:
    """A tenant with billing info, one subscription and one user, committed in one changeset."""
    changes = Changeset(tenant_id).write(tenant(tenant_id)).write(billing(tenant_id))
    changes.write(subscription(tenant_id=tenant_id)).write(user("usr_a", tenant_id))
    for entity in extra:
        changes.write(entity)
    repo.commit(changes.record(event(tenant_id, type="tenant.provisioned")))
    state = repo.load_tenant(tenant_id)
    assert state is not None
    return state


# --- the two implementations ----------------------------------------------------------------------

@pytest.fixture(params=["memory", "dynamodb"])
def repo(request: pytest.FixtureRequest) -> Repository:
    if request.param == "memory":
        return InMemoryRepository()
    resources: dict[str, str] = request.getfixturevalue("aws")
    return DynamoRepository(resources["Table"], request.getfixturevalue("dynamodb_client"))


# --- load and commit --------------------------------------------------------------------------------

def test_unknown_tenant_is_none(repo: Repository) -> None:
    assert repo.load_tenant("ten_nobody") is None


def test_every_field_round_trips_exactly(repo: Repository) -> None:
    reduction = ScheduledReduction(6, datetime(2026, 3, 31, tzinfo=UTC), "sao", T0, ack())
    cancellation = ScheduledCancellation(datetime(2026, 3, 31, tzinfo=UTC), "sao", T0, "too expensive",
                                         Acknowledgement("cancellation/v2", "sao", T0 + timedelta(seconds=1)))
    renewal = PrepaidRenewal(12, datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC), "inv_9")
    t = tenant(reseller=RESELLER)
    info = billing()
    subs = (
        subscription("sub_a", scheduled_reduction=reduction, channel="reseller", managed_by=RESELLER),
        subscription("sub_b", renewal=renewal, term="annual", plan_id="business-annual-sek", currency="SEK"),
        subscription("sub_c", cancellation=cancellation, edition="enterprise", managed_by=MANAGER),
        subscription("sub_d", status="past_due", open_invoice_id="inv_open", payment_attempts=2,
                     next_retry_at=datetime(2026, 4, 3, tzinfo=UTC)),
        subscription("sub_e", status="ended", ended_at=datetime(2026, 4, 5, 0, 0, 1, tzinfo=CET),
                     ended_reason="payment_failed"),
    )
    users = (user("usr_1"), user("usr_2", status="removed", removed_at=T0 + timedelta(seconds=30)))
    changes = Changeset("ten_acme").write(t).write(info)
    for entity in (*subs, *users):
        changes.write(entity)
    repo.commit(changes)

    state = repo.load_tenant("ten_acme")

    assert state == TenantState(t, info, subs, users)
    assert state.subscriptions[4].ended_at == datetime(2026, 4, 4, 23, 0, 1, tzinfo=UTC)
    assert all(s.current_period_end.tzinfo is not None for s in state.subscriptions)


def test_optional_fields_may_be_absent(repo: Repository) -> None:
    info = billing(address_line2=None, region=None, vat_id=None, po_reference=None)
    repo.commit(Changeset("ten_acme").write(tenant()).write(info))
    state = repo.load_tenant("ten_acme")
    assert state == TenantState(tenant(), info, (), ())


def test_a_tenant_without_billing_info_loads(repo: Repository) -> None:
    repo.commit(Changeset("ten_acme").write(tenant()))
    assert repo.load_tenant("ten_acme") == TenantState(tenant(), None, (), ())


def test_subscriptions_and_users_come_back_sorted_by_id(repo: Repository) -> None:
    changes = Changeset("ten_acme").write(tenant())
    for sub_id in ("sub_c", "sub_a", "sub_b"):
        changes.write(subscription(sub_id))
    for user_id in ("usr_z", "usr_m"):
        changes.write(user(user_id))
    repo.commit(changes)
    state = repo.load_tenant("ten_acme")
    assert state is not None
    assert [s.id for s in state.subscriptions] == ["sub_a", "sub_b", "sub_c"]
    assert [u.id for u in state.users] == ["usr_m", "usr_z"]


def test_the_next_version_replaces_the_stored_one(repo: Repository) -> None:
    state = provision(repo)
    sub = state.subscriptions[0]
    repo.commit(Changeset("ten_acme").write(sub.bump(seats=12)).write(replace(state.users[0], version=2,
                                                                               status="removed",
                                                                               removed_at=T0)))
    after = repo.load_tenant("ten_acme")
    assert after is not None
    assert after.subscriptions == (replace(sub, seats=12, version=2),)
    assert after.users[0].status == "removed"
    assert after.users[0].version == 2


# --- optimistic locking ---------------------------------------------------------------------------

def test_a_stale_version_is_refused_and_changes_nothing(repo: Repository) -> None:
    state = provision(repo)
    sub = state.subscriptions[0]
    repo.commit(Changeset("ten_acme").write(sub.bump(seats=12)))

    with pytest.raises(ConcurrentUpdate) as refused:
        repo.commit(Changeset("ten_acme").write(sub.bump(seats=8)))  # derived from version 1 again

    assert refused.value.code == "concurrent_update"
    assert refused.value.message == "Someone else changed this at the same time; reload and try again."
    assert refused.value.details == {"item": "SUB#sub_1"}
    after = repo.load_tenant("ten_acme")
    assert after is not None
    assert after.subscriptions[0].seats == 12


def test_skipping_a_version_is_refused(repo: Repository) -> None:
    sub = provision(repo).subscriptions[0]
    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset("ten_acme").write(replace(sub, version=3)))


def test_creating_twice_is_refused(repo: Repository) -> None:
    provision(repo)
    with pytest.raises(ConcurrentUpdate) as refused:
        repo.commit(Changeset("ten_acme").write(tenant()))
    assert refused.value.details == {"item": "TENANT"}
    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset("ten_acme").write(user("usr_a", email="other@acme.example")))
    state = repo.load_tenant("ten_acme")
    assert state is not None
    assert state.users[0].email == "usr_a@acme.example"


def test_updating_an_item_that_does_not_exist_is_refused(repo: Repository) -> None:
    provision(repo)
    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset("ten_acme").write(subscription("sub_ghost", version=2)))
    state = repo.load_tenant("ten_acme")
    assert state is not None
    assert [s.id for s in state.subscriptions] == ["sub_1"]


def test_one_stale_write_cancels_the_whole_changeset_and_its_events(repo: Repository) -> None:
    state = provision(repo)
    sub, info = state.subscriptions[0], state.billing_info
    assert info is not None
    repo.commit(Changeset("ten_acme").write(sub.bump(seats=12)))
    events_before = repo.list_activity("ten_acme", 50, None).items

    good = replace(info, version=2, company_name="Renamed AB")
    stale = sub.bump(seats=8)
    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset("ten_acme").write(good).write(stale).record(event(type="should.not.appear")))

    after = repo.load_tenant("ten_acme")
    assert after is not None
    assert after.billing_info == info
    assert after.subscriptions[0].seats == 12
    assert repo.list_activity("ten_acme", 50, None).items == events_before


def test_an_event_id_is_recorded_once(repo: Repository) -> None:
    provision(repo)
    e = event(type="user.assigned")
    repo.commit(Changeset("ten_acme").record(e))
    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset("ten_acme").record(replace(e, type="user.removed")))
    assert [x.type for x in repo.list_activity("ten_acme", 50, None).items].count("user.assigned") == 1


def _race(repo: Repository, base: Subscription, *seats: int) -> list[str]:
    """Commit `base.bump(seats=n)` for each n from its own thread, all released at the same moment."""
    start = threading.Barrier(len(seats))
    outcomes: list[str] = []

    def write(n: int) -> None:
        start.wait()
        try:
            repo.commit(Changeset(base.tenant_id).write(base.bump(seats=n)))
            outcomes.append(f"won:{n}")
        except ConcurrentUpdate:
            outcomes.append("lost")

    threads = [threading.Thread(target=write, args=(n,)) for n in seats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.usefixtures("atomic_moto_transactions")
def test_two_writers_race_for_one_version_and_exactly_one_wins(repo: Repository) -> None:
    sub = provision(repo).subscriptions[0]
    for round_no in range(3):
        outcomes = _race(repo, sub, 20 + round_no, 30 + round_no)

        assert len(outcomes) == 2
        assert outcomes[0] == "lost", outcomes
        assert outcomes[1].startswith("won:"), outcomes
        state = repo.load_tenant("ten_acme")
        assert state is not None
        sub = state.subscriptions[0]
        assert (sub.seats, sub.version) == (int(outcomes[1].removeprefix("won:")), round_no + 2)


@pytest.mark.parametrize(
    "changeset",
    [
        pytest.param(lambda: Changeset("ten_acme").write(tenant("ten_other")), id="foreign-write"),
        pytest.param(lambda: Changeset("ten_acme").record(event("ten_other")), id="foreign-event"),
        pytest.param(lambda: Changeset("ten_acme").write(user("usr_x")).write(user("usr_x")), id="same-item-twice"),
        pytest.param(lambda: Changeset("ten_acme").write(user("usr_0", version=0)), id="version-0"),
        pytest.param(lambda: _changeset_of(101), id="101-items"),
    ],
)
def test_malformed_changesets_are_refused_before_writing(repo: Repository,
                                                         changeset: Callable[[], Changeset]) -> None:
    with pytest.raises(ValueError, match=r"changeset|version"):
        repo.commit(changeset())
    assert repo.load_tenant("ten_acme") is None
    assert repo.load_tenant("ten_other") is None


def _changeset_of(size: int) -> Changeset:
    changes = Changeset("ten_acme").write(tenant())
    for i in range(size - 1):
        changes.write(user(f"usr_{i:03}"))
    return changes


def test_a_changeset_of_one_hundred_items_commits(repo: Repository) -> None:
    repo.commit(_changeset_of(99).record(event()))
    state = repo.load_tenant("ten_acme")
    assert state is not None
    assert len(state.users) == 98
    assert len(repo.list_activity("ten_acme", 10, None).items) == 1


# --- payment methods ------------------------------------------------------------------------------

def card(card_id: str = "pm_1", tenant_id: str = "ten_acme", **changes: Any) -> PaymentMethod:
    saved = PaymentMethod(tenant_id, card_id, f"tok_{card_id}", "visa", "4242", 12, 2030, "Åsa Öberg",
                          f"fp_{card_id}", T0)
    return replace(saved, **changes)


def test_cards_and_the_default_round_trip(repo: Repository) -> None:
    state = provision(repo)
    first, second = card("pm_1"), card("pm_2", brand="amex", last4="0005", exp_month=1, exp_year=2031, name="Ли Мин")
    repo.commit(Changeset("ten_acme").write(first).write(second)
                .write(replace(state.tenant, default_payment_method_id="pm_1", version=2)))

    loaded = repo.load_tenant("ten_acme")

    assert loaded is not None
    assert loaded.payment_methods == (first, second)
    assert loaded.tenant.default_payment_method_id == "pm_1"
    assert loaded.payment_method("pm_2") == second and loaded.payment_method("pm_9") is None


def test_a_card_is_deleted_at_its_version_with_its_audit_record(repo: Repository) -> None:
    provision(repo)
    repo.commit(Changeset("ten_acme").write(card("pm_1")).write(card("pm_2")))
    bumped = card("pm_2", version=2)
    repo.commit(Changeset("ten_acme").write(bumped))

    with pytest.raises(ConcurrentUpdate):  # deleting what was read before the bump
        repo.commit(Changeset("ten_acme").delete(card("pm_2")).record(event(type="payment_method.removed")))
    with pytest.raises(ConcurrentUpdate):  # deleting what is not there
        repo.commit(Changeset("ten_acme").delete(card("pm_3")))
    loaded = repo.load_tenant("ten_acme")
    assert loaded is not None and [c.id for c in loaded.payment_methods] == ["pm_1", "pm_2"]
    assert "payment_method.removed" not in [e.type for e in repo.list_activity("ten_acme", 50, None).items]

    repo.commit(Changeset("ten_acme").delete(bumped).record(event(type="payment_method.removed")))

    loaded = repo.load_tenant("ten_acme")
    assert loaded is not None and [c.id for c in loaded.payment_methods] == ["pm_1"]
    assert "payment_method.removed" in [e.type for e in repo.list_activity("ten_acme", 50, None).items]


def test_a_changeset_cannot_write_and_delete_one_card(repo: Repository) -> None:
    provision(repo)
    with pytest.raises(ValueError, match="at most once"):
        repo.commit(Changeset("ten_acme").write(card("pm_1")).delete(card("pm_1")))


@pytest.mark.usefixtures("atomic_moto_transactions")
def test_two_removals_of_one_card_at_once_delete_it_once(repo: Repository) -> None:
    provision(repo)
    repo.commit(Changeset("ten_acme").write(card("pm_1")))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def remove() -> None:
        start.wait()
        try:
            repo.commit(Changeset("ten_acme").delete(card("pm_1")).record(event(type="payment_method.removed")))
            outcomes.append("won")
        except ConcurrentUpdate:
            outcomes.append("lost")

    threads = [threading.Thread(target=remove) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["lost", "won"]
    loaded = repo.load_tenant("ten_acme")
    assert loaded is not None and loaded.payment_methods == ()
    assert [e.type for e in repo.list_activity("ten_acme", 50, None).items].count("payment_method.removed") == 1


# --- invoices and the invoice-number sequence ----------------------------------------------------------

def invoice(invoice_id: str, tenant_id: str = "ten_acme", number: int = 1, **changes: Any) -> Invoice:
    lines = (
        ChargeLine("Business (monthly): seats 1-10, 2026-03-31 to 2026-04-30", 10, 3000, 30000,
                   datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC)),
        ChargeLine("Business (monthly): 2 added seats, prorated", 1, 3571, 3571, T0, datetime(2026, 3, 31, tzinfo=UTC)),
    )
    buyer = Buyer("Łódź Analityka Sp. z o.o.", "faktury@lodz.example", "ul. Piotrkowska 1", "lok. 2", "90-001",
                  "Łódź", "Łódzkie", "PL", "PL1234567890", "PO-7")
    seller = Seller("Nordlys Analytics AB", ("Sveavägen 44", "111 34 Stockholm", "Sweden"), "SE556677889901",
                    "billing@nordlys.example")
    issued = Invoice(tenant_id, invoice_id, format_number(number), "sub_1", "paid", T0, "EUR", lines, 33571, 0, 0,
                     33571, "Reverse charge", datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC),
                     buyer, seller, InvoicePayment("visa", "4242", "ch_1", T0 + timedelta(seconds=1)))
    return replace(issued, **changes)


def issue(repo: Repository, issued: Invoice, number: int) -> None:
    repo.commit(Changeset(issued.tenant_id).write(issued).take_number(INVOICE_SEQUENCE, number))


def test_an_invoice_round_trips_with_lines_buyer_seller_and_payment(repo: Repository) -> None:
    provision(repo)
    issued = invoice("inv_1")
    issue(repo, issued, 1)

    assert repo.get_invoice("ten_acme", "inv_1") == issued


def test_an_open_invoice_without_buyer_or_payment_round_trips(repo: Repository) -> None:
    provision(repo)
    issued = invoice("inv_1", status="open", buyer=None, payment=None, tax_note=None, period_start=None,
                     period_end=None, lines=())
    issue(repo, issued, 1)
    assert repo.get_invoice("ten_acme", "inv_1") == issued


def test_another_tenants_invoice_is_none(repo: Repository) -> None:
    provision(repo)
    provision(repo, "ten_other")
    issue(repo, invoice("inv_theirs", "ten_other"), 1)
    assert repo.get_invoice("ten_acme", "inv_theirs") is None
    assert repo.get_invoice("ten_acme", "inv_nothing") is None
    assert repo.list_invoices("ten_acme", 10, None) == Page([], None)


def test_invoices_are_listed_newest_first_in_pages(repo: Repository) -> None:
    provision(repo)
    provision(repo, "ten_other")
    issued = [invoice(new_id("inv", T0 + timedelta(days=n)), number=n + 1) for n in range(5)]
    for n, each in enumerate(issued):
        issue(repo, each, n + 1)
    issue(repo, invoice(new_id("inv", T0 + timedelta(days=9)), "ten_other", number=6), 6)

    first = repo.list_invoices("ten_acme", 2, None)
    second = repo.list_invoices("ten_acme", 2, first.next_cursor)
    third = repo.list_invoices("ten_acme", 2, second.next_cursor)

    assert [i.number for page in (first, second, third) for i in page.items] == [
        "INV-000005", "INV-000004", "INV-000003", "INV-000002", "INV-000001"]
    assert third.next_cursor is None
    assert third.items == [issued[0]]
    with pytest.raises(InvalidInput):
        repo.list_invoices("ten_other", 2, first.next_cursor)


def test_the_sequence_counts_the_numbers_taken(repo: Repository) -> None:
    provision(repo)
    assert repo.last_number(INVOICE_SEQUENCE) == 0
    for number in (1, 2, 3):
        issue(repo, invoice(f"inv_{number}", number=number), number)
    assert repo.last_number(INVOICE_SEQUENCE) == 3
    assert repo.last_number("another-sequence") == 0


@pytest.mark.parametrize("number", [1, 3], ids=["taken-again", "skipping-one"])
def test_a_stale_number_is_refused_and_nothing_is_written(repo: Repository, number: int) -> None:
    state = provision(repo)
    issue(repo, invoice("inv_1"), 1)
    sub = state.subscriptions[0]

    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset("ten_acme").write(invoice("inv_2", number=number)).write(sub.bump(seats=12))
                    .take_number(INVOICE_SEQUENCE, number).record(event(type="invoice.issued")))

    assert repo.last_number(INVOICE_SEQUENCE) == 1
    assert repo.get_invoice("ten_acme", "inv_2") is None
    assert repo.load_tenant("ten_acme") == state
    assert "invoice.issued" not in [e.type for e in repo.list_activity("ten_acme", 50, None).items]


@pytest.mark.usefixtures("atomic_moto_transactions")
def test_two_commits_racing_for_one_number_one_wins(repo: Repository) -> None:
    provision(repo)
    provision(repo, "ten_other")
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(tenant_id: str) -> None:
        start.wait()
        try:
            issue(repo, invoice(f"inv_{tenant_id}", tenant_id), 1)
            outcomes[tenant_id] = "won"
        except ConcurrentUpdate:
            outcomes[tenant_id] = "lost"

    threads = [threading.Thread(target=take, args=(t,)) for t in ("ten_acme", "ten_other")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(t for t, outcome in outcomes.items() if outcome == "won")
    loser = next(t for t in outcomes if t != winner)
    assert repo.get_invoice(winner, f"inv_{winner}") is not None
    assert repo.get_invoice(loser, f"inv_{loser}") is None
    assert repo.last_number(INVOICE_SEQUENCE) == 1


def test_an_invoice_is_paid_at_its_version(repo: Repository) -> None:
    provision(repo)
    opened = invoice("inv_1", status="open", payment=None)
    issue(repo, opened, 1)
    paid = opened.mark_paid(InvoicePayment("visa", "4242", "ch_9", T0))
    repo.commit(Changeset("ten_acme").write(paid))
    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset("ten_acme").write(opened.mark_uncollectible()))
    assert repo.get_invoice("ten_acme", "inv_1") == paid


def test_a_pending_payment_round_trips_on_the_subscription(repo: Repository) -> None:
    state = provision(repo)
    pending = PendingPayment(
        "pay_1", "increase", "client-key-1", "pm_1", T0, "EUR", 14188, 27,
        lines=invoice("inv_x").lines, subtotal=11350, tax_rate_bp=2500, tax_amount=2838, tax_note=None,
        period_start=datetime(2026, 2, 28, tzinfo=UTC), period_end=datetime(2026, 3, 31, tzinfo=UTC),
        anchor=datetime(2026, 1, 31, tzinfo=UTC), renewal_seats=33, invoice_id="inv_next",
    )
    started = state.subscriptions[0].bump(pending_payment=pending)
    repo.commit(Changeset("ten_acme").write(started))
    loaded = repo.load_tenant("ten_acme")
    assert loaded is not None and loaded.subscriptions[0] == started
    repo.commit(Changeset("ten_acme").write(started.bump(pending_payment=None)))
    reloaded = repo.load_tenant("ten_acme")
    assert reloaded is not None and reloaded.subscriptions[0].pending_payment is None


# --- activity ---------------------------------------------------------------------------------------

def _record_events(repo: Repository, tenant_id: str, count: int) -> list[AuditEvent]:
    recorded = [event(tenant_id, T0 + timedelta(minutes=i), type=f"step.{i}") for i in range(count)]
    for e in recorded:
        repo.commit(Changeset(tenant_id).record(e))
    return recorded


def test_activity_is_newest_first_and_round_trips(repo: Repository) -> None:
    recorded = _record_events(repo, "ten_acme", 3)
    rich = event(at=T0 + timedelta(hours=1), acknowledgement=ack(), before=None,
                 after={"seats": 8, "nested": {"list": [1, "two", None, True, 2.5]}, "empty": {}},
                 data={"reason": "too expensive", "effective_at": "2026-03-31T00:00:00Z", "ratio": 0.25})
    repo.commit(Changeset("ten_acme").record(rich))

    page = repo.list_activity("ten_acme", 10, None)

    assert page.items == [rich, *reversed(recorded)]
    assert page.next_cursor is None


def test_activity_pages_cover_every_event_exactly_once(repo: Repository) -> None:
    recorded = _record_events(repo, "ten_acme", 7)
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        page = repo.list_activity("ten_acme", 3, cursor)
        seen += [e.id for e in page.items]
        sizes.append(len(page.items))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == [e.id for e in reversed(recorded)]


def test_a_last_full_page_has_no_next_cursor(repo: Repository) -> None:
    _record_events(repo, "ten_acme", 4)
    first = repo.list_activity("ten_acme", 2, None)
    assert first.next_cursor is not None
    second = repo.list_activity("ten_acme", 2, first.next_cursor)
    assert len(second.items) == 2
    assert second.next_cursor is None


def test_no_activity_is_an_empty_page(repo: Repository) -> None:
    assert repo.list_activity("ten_nobody", 5, None) == repo.list_activity("ten_nobody", 5, None)
    page = repo.list_activity("ten_nobody", 5, None)
    assert (page.items, page.next_cursor) == ([], None)


@pytest.mark.parametrize("cursor", ["garbage", "", "!!!!", "W10", "eyJ0IjoidGVuX2FjbWUifQ", "x" * 2000])
def test_a_garbage_cursor_is_refused(repo: Repository, cursor: str) -> None:
    _record_events(repo, "ten_acme", 2)
    with pytest.raises(InvalidInput) as refused:
        repo.list_activity("ten_acme", 1, cursor)
    assert refused.value.message == "The cursor is not valid."
    assert refused.value.details == {"field": "cursor"}


def test_another_tenants_cursor_is_refused(repo: Repository) -> None:
    _record_events(repo, "ten_acme", 3)
    _record_events(repo, "ten_other", 3)
    cursor = repo.list_activity("ten_acme", 1, None).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput):
        repo.list_activity("ten_other", 1, cursor)


def test_tenants_are_isolated(repo: Repository) -> None:
    acme = provision(repo, "ten_acme")
    other = provision(repo, "ten_other", subscription("sub_2", "ten_other"))
    assert repo.load_tenant("ten_acme") == acme
    assert {s.id for s in other.subscriptions} == {"sub_1", "sub_2"}
    assert all(s.tenant_id == "ten_other" for s in other.subscriptions)
    assert [e.tenant_id for e in repo.list_activity("ten_acme", 10, None).items] == ["ten_acme"]
    # The same ids in another tenant are other items: no version clash across tenants.
    repo.commit(Changeset("ten_other").write(other.subscriptions[0].bump(seats=3)))
    assert repo.load_tenant("ten_acme") == acme


# --- the due-work index (the period-end applier's) ----------------------------------------------------

def _all_due(repo: Repository, now: datetime, page_size: int) -> list[list[str]]:
    """Every shard's due subscriptions, page by page (ids)."""
    pages: list[list[str]] = []
    for shard in range(items.DUE_SHARDS):
        cursor: str | None = None
        while True:
            page = repo.due_subscriptions(shard, now, page_size, cursor)
            pages.append([sub.id for sub in page.items])
            cursor = page.next_cursor
            if cursor is None:
                break
    return pages


def test_due_subscriptions_are_found_shard_by_shard_in_pages_each_once(repo: Repository) -> None:
    march = datetime(2026, 3, 31, tzinfo=UTC)
    due = [subscription(f"sub_{n:02d}", current_period_end=march + timedelta(hours=n)) for n in range(40)]
    provision(repo, "ten_acme", *due[:20])
    provision(repo, "ten_beta", *[replace(s, tenant_id="ten_beta") for s in due[20:]])
    later = subscription("sub_later", "ten_acme", current_period_end=datetime(2026, 5, 1, tzinfo=UTC))
    ended = subscription("sub_ended", "ten_acme", status="ended", ended_at=T0, ended_reason="cancelled")
    retrying = subscription("sub_retry", "ten_acme", status="past_due", next_retry_at=march + timedelta(hours=1))
    repo.commit(Changeset("ten_acme").write(later).write(ended).write(retrying))

    now = march + timedelta(hours=30)
    pages = _all_due(repo, now, 3)
    found = [sub_id for page in pages for sub_id in page]
    # sub_1 of each tenant ends on 2026-03-31 too; the later one, the ended one and the hours after now are not due
    assert sorted(found) == sorted([f"sub_{n:02d}" for n in range(31)] + ["sub_1", "sub_1", "sub_retry"])
    assert all(len(page) <= 3 for page in pages)
    for shard in range(items.DUE_SHARDS):  # earliest first within a shard, never another shard's
        ordered = [s for s in (repo.due_subscriptions(shard, now, 100, None).items)]
        assert [items.due_shard(s.id) for s in ordered] == [shard] * len(ordered)
        assert [items.due_at(s) for s in ordered] == sorted(items.due_at(s) for s in ordered)
    assert _all_due(repo, datetime(2026, 3, 30, tzinfo=UTC), 10) == [[]] * items.DUE_SHARDS


def test_a_subscription_is_due_at_its_retry_or_its_payment_not_at_its_term_end(repo: Repository) -> None:
    pending = PendingPayment("pay_1", "renewal", "key-1", "pm_1", T0, "EUR", 100, 12)
    provision(repo, "ten_acme",
              subscription("sub_paying", pending_payment=pending),
              subscription("sub_retry", status="past_due", next_retry_at=datetime(2026, 4, 2, tzinfo=UTC)))
    found = {sub.id: sub for page in [repo.due_subscriptions(s, datetime(2026, 4, 2, tzinfo=UTC), 10, None)
                                      for s in range(items.DUE_SHARDS)] for sub in page.items}
    assert set(found) == {"sub_1", "sub_paying", "sub_retry"}
    assert found["sub_paying"].pending_payment == pending  # the whole item: the index projects everything
    at_term_end = {sub.id for s in range(items.DUE_SHARDS)
                   for sub in repo.due_subscriptions(s, datetime(2026, 3, 31, tzinfo=UTC), 10, None).items}
    assert at_term_end == {"sub_1", "sub_paying"}  # the payment was due 2 minutes after T0


def test_a_due_cursor_of_another_shard_is_refused(repo: Repository) -> None:
    provision(repo, "ten_acme", *[subscription(f"sub_c{n}") for n in range(40)])
    now = datetime(2026, 4, 1, tzinfo=UTC)
    shard, page = next((s, p) for s in range(items.DUE_SHARDS)
                       for p in (repo.due_subscriptions(s, now, 1, None),) if p.next_cursor)
    assert page.next_cursor is not None
    with pytest.raises(ValueError, match="cursor"):
        repo.due_subscriptions((shard + 1) % items.DUE_SHARDS, now, 1, page.next_cursor)


# --- DynamoDB only --------------------------------------------------------------------------------

@pytest.fixture
def dynamo(aws: dict[str, str], dynamodb_client: DynamoDBClient) -> DynamoRepository:
    return DynamoRepository(aws["Table"], dynamodb_client)


@pytest.fixture
def calls(dynamodb_client: DynamoDBClient) -> Iterator[list[str]]:
    """The DynamoDB operations the client sends, in order."""
    sent: list[str] = []

    def count(model: Any, **_: Any) -> None:
        sent.append(model.name)

    dynamodb_client.meta.events.register("before-call.dynamodb.*", count)
    yield sent
    dynamodb_client.meta.events.unregister("before-call.dynamodb.*", count)


def _raw_items(client: DynamoDBClient, table: str, tenant_id: str) -> dict[str, dict[str, Any]]:
    response = client.query(TableName=table, KeyConditionExpression="PK = :pk",
                            ExpressionAttributeValues={":pk": {"S": items.tenant_pk(tenant_id)}})
    return {item["SK"]["S"]: dict(item) for item in response["Items"]}


def test_loading_a_tenant_is_one_query(dynamo: DynamoRepository, calls: list[str]) -> None:
    provision(dynamo, "ten_acme", subscription("sub_2"), user("usr_b"))
    _record_events(dynamo, "ten_acme", 5)  # not part of the account collection
    calls.clear()
    state = dynamo.load_tenant("ten_acme")
    assert calls == ["Query"]
    assert state is not None
    assert len(state.subscriptions) == 2


def test_a_commit_is_one_transaction(dynamo: DynamoRepository, calls: list[str]) -> None:
    provision(dynamo)
    calls.clear()
    state = dynamo.load_tenant("ten_acme")
    assert state is not None
    sub = state.subscriptions[0]
    dynamo.commit(Changeset("ten_acme").write(sub.bump(seats=3)).write(user("usr_new")).record(event()))
    assert calls == ["Query", "TransactWriteItems"]


def test_reading_invoices_and_the_counter_is_one_request_each(dynamo: DynamoRepository, calls: list[str]) -> None:
    provision(dynamo)
    issue(dynamo, invoice("inv_1"), 1)
    calls.clear()
    dynamo.get_invoice("ten_acme", "inv_1")
    dynamo.list_invoices("ten_acme", 10, None)
    dynamo.last_number(INVOICE_SEQUENCE)
    assert calls == ["GetItem", "Query", "GetItem"]


def test_an_activity_page_is_one_query(dynamo: DynamoRepository, calls: list[str]) -> None:
    _record_events(dynamo, "ten_acme", 5)
    calls.clear()
    cursor = dynamo.list_activity("ten_acme", 2, None).next_cursor
    dynamo.list_activity("ten_acme", 2, cursor)
    assert calls == ["Query", "Query"]


def test_items_carry_entity_version_and_the_due_index_while_live(
    dynamo: DynamoRepository, dynamodb_client: DynamoDBClient, aws: dict[str, str]
) -> None:
    retry = datetime(2026, 4, 3, 6, 0, tzinfo=UTC)
    provision(dynamo, "ten_acme", subscription("sub_retry", status="past_due", next_retry_at=retry),
              subscription("sub_ended", status="ended", ended_at=T0, ended_reason="cancelled"))
    stored = _raw_items(dynamodb_client, aws["Table"], "ten_acme")

    assert {sk: item["entity"]["S"] for sk, item in stored.items() if not sk.startswith("EVENT#")} == {
        "A#TENANT": "tenant", "A#BILLING": "billing_info", "A#SUB#sub_1": "subscription",
        "A#SUB#sub_retry": "subscription", "A#SUB#sub_ended": "subscription", "A#USER#usr_a": "user",
    }
    assert all(item["version"] == {"N": "1"} for sk, item in stored.items() if sk.startswith("A#"))
    [audit] = [item for sk, item in stored.items() if sk.startswith("EVENT#")]
    assert audit["entity"] == {"S": "audit"}
    assert "version" not in audit

    live = stored["A#SUB#sub_1"]
    assert live["GSI1PK"] == {"S": f"DUE#{items.due_shard('sub_1')}"}
    assert live["GSI1SK"] == {"S": "2026-03-31T00:00:00.000000Z#sub_1"}  # the end of the term
    assert stored["A#SUB#sub_retry"]["GSI1SK"] == {"S": "2026-04-03T06:00:00.000000Z#sub_retry"}
    assert "GSI1PK" not in stored["A#SUB#sub_ended"]
    assert "GSI1SK" not in stored["A#SUB#sub_ended"]
    for sk in ("A#TENANT", "A#BILLING", "A#USER#usr_a"):
        assert "GSI1PK" not in stored[sk]


def test_the_due_index_finds_due_work_and_forgets_ended_subscriptions(
    dynamo: DynamoRepository, dynamodb_client: DynamoDBClient, aws: dict[str, str]
) -> None:
    state = provision(dynamo, "ten_acme", subscription("sub_later", current_period_end=datetime(2026, 5, 1,
                                                                                                  tzinfo=UTC)))

    def due(now: datetime) -> set[str]:
        found: set[str] = set()
        for shard in range(items.DUE_SHARDS):  # one Query per shard
            response = dynamodb_client.query(
                TableName=aws["Table"], IndexName=items.GSI1,
                KeyConditionExpression="GSI1PK = :shard AND GSI1SK <= :now",
                ExpressionAttributeValues={":shard": {"S": items.due_partition(shard)},
                                           ":now": {"S": items.due_sort_key_upper_bound(now)}},
            )
            found |= {item["id"]["S"] for item in response["Items"]}
        return found

    assert due(datetime(2026, 3, 31, tzinfo=UTC)) == {"sub_1"}
    assert due(datetime(2026, 3, 30, 23, 59, 59, tzinfo=UTC)) == set()
    assert due(datetime(2026, 6, 1, tzinfo=UTC)) == {"sub_1", "sub_later"}

    ended = state.subscription("sub_1")
    assert ended is not None
    dynamo.commit(Changeset("ten_acme").write(ended.bump(status="ended", ended_at=T0, ended_reason="cancelled")))
    assert due(datetime(2026, 6, 1, tzinfo=UTC)) == {"sub_later"}


def test_the_table_is_the_templates(aws: dict[str, str], dynamodb_client: DynamoDBClient) -> None:
    table = dynamodb_client.describe_table(TableName=aws["Table"])["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["PK", "SK"]
    assert [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])] == ["GSI1"]
    assert table.get("StreamSpecification", {}).get("StreamViewType") == "NEW_IMAGE"
    assert table.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"


def test_other_errors_propagate(dynamodb_client: DynamoDBClient) -> None:
    missing = DynamoRepository("no-such-table", dynamodb_client)
    with pytest.raises(ClientError) as failed:
        missing.commit(Changeset("ten_acme").write(tenant()))
    assert failed.value.response["Error"]["Code"] == "ResourceNotFoundException"


class _FailingClient:
    """Stands in for the botocore client where moto cannot produce the failure."""

    def __init__(self, error: ClientError) -> None:
        self.error = error

    def transact_write_items(self, **_: Any) -> None:
        raise self.error


def _cancelled(*codes: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
         "CancellationReasons": [{"Code": code} for code in codes]},
        "TransactWriteItems",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(_cancelled("None", "TransactionConflict"), {"item": "SUB#sub_1"}, id="transaction-conflict"),
        pytest.param(_cancelled("ConditionalCheckFailed", "None"), {"item": "TENANT"}, id="condition-failed"),
        pytest.param(ClientError({"Error": {"Code": "TransactionConflictException", "Message": "busy"}},
                                 "TransactWriteItems"), {}, id="conflict-exception"),
    ],
)
def test_lost_races_become_concurrent_update(error: ClientError, expected: dict[str, str]) -> None:
    repo = DynamoRepository("t", _FailingClient(error))  # type: ignore[arg-type]
    with pytest.raises(ConcurrentUpdate) as refused:
        repo.commit(Changeset("ten_acme").write(tenant()).write(subscription()))
    assert refused.value.details == expected


def test_throttling_is_not_a_lost_race() -> None:
    repo = DynamoRepository("t", _FailingClient(_cancelled("ThrottlingError")))  # type: ignore[arg-type]
    with pytest.raises(ClientError):
        repo.commit(Changeset("ten_acme").write(tenant()))


class _PagedClient:
    """Returns an item collection in two pages, as DynamoDB does above 1 MB."""

    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return self.pages[len(self.requests) - 1]


def test_a_collection_above_one_page_is_read_to_the_end() -> None:
    first = {"Items": [items.to_item(billing()), items.to_item(subscription())],
             "LastEvaluatedKey": items.key("TENANT#ten_acme", "A#SUB#sub_1")}
    second = {"Items": [items.to_item(tenant()), items.to_item(user("usr_a"))]}
    client = _PagedClient([first, second])
    state = DynamoRepository("t", client).load_tenant("ten_acme")  # type: ignore[arg-type]
    assert state == TenantState(tenant(), billing(), (subscription(),), (user("usr_a"),))
    assert client.requests[1]["ExclusiveStartKey"] == first["LastEvaluatedKey"]


def test_unknown_item_types_in_the_collection_are_skipped() -> None:
    card = items.key("TENANT#ten_acme", "A#CARD#card_1") | {"entity": {"S": "card"}, "version": {"N": "1"}}
    client = _PagedClient([{"Items": [card, items.to_item(tenant())]}])
    assert DynamoRepository("t", client).load_tenant("ten_acme") == TenantState(  # type: ignore[arg-type]
        tenant(), None, (), ()
    )
