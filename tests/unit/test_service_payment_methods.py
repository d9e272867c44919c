"""Saved cards (SPEC 2.10) through the real services, the in-memory repository and the sandbox gateway on
its in-memory store."""

from __future__ import annotations

from dataclasses import replace

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.adapters.sandbox_gateway import InMemorySandboxStore, SandboxGateway
from selfservice.domain.errors import (
    CardExpired,
    ConcurrentUpdate,
    DefaultPaymentMethod,
    InvalidInput,
    NotFound,
    PaymentInProgress,
    TooManyPaymentMethods,
)
from selfservice.domain.model import PaymentMethod, PendingPayment, TenantState
from selfservice.domain.payment_methods import MAX_PAYMENT_METHODS
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps
from selfservice.services import payment_methods as cards
from selfservice.services.account import get_account

from .builders import NOW, SAO, TENANT_ID, Provision, SetSubscription

VISA = "4242 4242 4242 4242"
MASTERCARD = "5555 5555 5555 4444"
AMEX = "3782 822463 10005"


@pytest.fixture
def gateway(clock: ManualClock) -> SandboxGateway:
    return SandboxGateway(InMemorySandboxStore(), clock)


@pytest.fixture
def money(deps: Deps, gateway: SandboxGateway, provision: Provision) -> Deps:
    """The unit deps with the sandbox gateway, and the tenant provisioned (no card yet)."""
    provision()
    return replace(deps, gateway=gateway, tokeniser=gateway)


def token(gateway: SandboxGateway, number: str = VISA, *, exp_month: int = 12, exp_year: int = 2030,
          name: str = "Maria Berg") -> str:
    cvc = "1234" if number.startswith("37") else "123"
    return gateway.tokenise(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, name=name).token


def state(repo: InMemoryRepository, tenant_id: str = TENANT_ID) -> TenantState:
    loaded = repo.load_tenant(tenant_id)
    assert loaded is not None
    return loaded


def add(money: Deps, caller: Caller, gateway: SandboxGateway, number: str = VISA, **options: object) -> PaymentMethod:
    """Add a card, then let a second pass: card ids sort by their millisecond, so cards list in the order added."""
    card = cards.add_payment_method(money, caller, token(gateway, number, **options)).view.card  # type: ignore[arg-type]
    money.clock.advance(1)  # type: ignore[attr-defined]
    return card


def test_no_cards_at_first(money: Deps, caller: Caller) -> None:
    assert cards.list_payment_methods(money, caller) == []
    assert get_account(money, caller).default_payment_method_id is None


def test_the_first_card_becomes_the_default_in_the_same_transaction(money: Deps, caller: Caller,
                                                                    gateway: SandboxGateway,
                                                                    repo: InMemoryRepository) -> None:
    commits = repo.commits

    added = cards.add_payment_method(money, caller, token(gateway))

    assert added.created is True
    assert added.view.is_default is True and added.view.expired is False
    card = added.view.card
    assert (card.brand, card.last4, card.exp_month, card.exp_year, card.name) == ("visa", "4242", 12, 2030, "Maria Berg")
    assert card.id.startswith("pm_") and card.token.startswith("tok_") and card.created_at == NOW
    assert repo.commits == commits + 1
    assert state(repo).tenant.default_payment_method_id == card.id
    account = get_account(money, caller)
    assert account.default_payment_method_id == card.id
    assert account.default_payment_method is not None and account.default_payment_method.card == card
    event = repo.all_events(TENANT_ID)[-1]
    assert (event.type, event.actor, event.subject_id) == ("payment_method.added", SAO, card.id)
    assert event.after == {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "name": "Maria Berg",
                           "is_default": True}
    assert card.token not in repr(event)


def test_later_cards_do_not_change_the_default(money: Deps, caller: Caller, gateway: SandboxGateway) -> None:
    first = add(money, caller, gateway)

    second = cards.add_payment_method(money, caller, token(gateway, MASTERCARD))

    assert second.created is True and second.view.is_default is False
    listed = cards.list_payment_methods(money, caller)
    assert [(v.card.id, v.is_default) for v in listed] == [(first.id, True), (second.view.card.id, False)]


def test_the_same_card_twice_returns_the_saved_one(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                   repo: InMemoryRepository) -> None:
    first = add(money, caller, gateway)
    commits = repo.commits

    again = cards.add_payment_method(money, caller, token(gateway, "4242424242424242"))

    assert again.created is False
    assert again.view.card == first and again.view.is_default is True
    assert repo.commits == commits  # nothing written, nothing recorded
    assert len(cards.list_payment_methods(money, caller)) == 1


def test_the_same_card_with_a_new_expiry_updates_the_saved_one(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                                repo: InMemoryRepository) -> None:
    first = add(money, caller, gateway)
    renewed_token = token(gateway, exp_month=6, exp_year=2033)

    again = cards.add_payment_method(money, caller, renewed_token)

    assert again.created is False
    card = again.view.card
    assert (card.id, card.exp_month, card.exp_year, card.token, card.version) == (first.id, 6, 2033, renewed_token, 2)
    assert repo.all_events(TENANT_ID)[-1].type == "payment_method.updated"
    assert len(cards.list_payment_methods(money, caller)) == 1


def test_an_unknown_token_is_invalid(money: Deps, caller: Caller) -> None:
    with pytest.raises(InvalidInput) as refused:
        cards.add_payment_method(money, caller, "tok_00000000000000000000000000")

    assert refused.value.details == {"field": "token"}


def test_an_expired_card_cannot_be_added(money: Deps, caller: Caller, gateway: SandboxGateway,
                                         clock: ManualClock) -> None:
    expiring = token(gateway, exp_month=3, exp_year=2026)  # valid through March
    clock.set(NOW.replace(month=4, day=1))

    with pytest.raises(CardExpired) as refused:
        cards.add_payment_method(money, caller, expiring)

    assert refused.value.details == {"exp_month": 3, "exp_year": 2026}
    assert cards.list_payment_methods(money, caller) == []


def test_an_expired_card_cannot_be_made_the_default(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                    clock: ManualClock, repo: InMemoryRepository) -> None:
    default = add(money, caller, gateway)
    expiring = add(money, caller, gateway, MASTERCARD, exp_month=3, exp_year=2026)
    clock.set(NOW.replace(month=4, day=1))
    assert [v.expired for v in cards.list_payment_methods(money, caller)] == [False, True]

    with pytest.raises(CardExpired):
        cards.make_default_payment_method(money, caller, expiring.id)

    assert state(repo).tenant.default_payment_method_id == default.id


def test_another_card_is_made_the_default(money: Deps, caller: Caller, gateway: SandboxGateway,
                                          repo: InMemoryRepository) -> None:
    first = add(money, caller, gateway)
    second = add(money, caller, gateway, AMEX)

    made = cards.make_default_payment_method(money, caller, second.id)

    assert made.is_default is True and made.card.id == second.id
    assert state(repo).tenant.default_payment_method_id == second.id
    assert [(v.card.id, v.is_default) for v in cards.list_payment_methods(money, caller)] == [
        (first.id, False), (second.id, True)]
    event = repo.all_events(TENANT_ID)[-1]
    assert (event.type, event.subject_id) == ("payment_method.default_changed", second.id)
    assert (event.before, event.after) == ({"default_payment_method_id": first.id},
                                           {"default_payment_method_id": second.id})


def test_making_the_default_the_default_changes_nothing(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                        repo: InMemoryRepository) -> None:
    first = add(money, caller, gateway)
    commits = repo.commits

    assert cards.make_default_payment_method(money, caller, first.id).is_default is True
    assert repo.commits == commits


def test_the_default_card_cannot_be_removed(money: Deps, caller: Caller, gateway: SandboxGateway,
                                            repo: InMemoryRepository) -> None:
    first = add(money, caller, gateway)

    with pytest.raises(DefaultPaymentMethod) as refused:
        cards.remove_payment_method(money, caller, first.id)

    assert refused.value.code == "default_payment_method"
    assert "another default" in refused.value.message
    assert state(repo).payment_methods == (first,)


def test_another_card_is_removed(money: Deps, caller: Caller, gateway: SandboxGateway,
                                 repo: InMemoryRepository) -> None:
    first = add(money, caller, gateway)
    second = add(money, caller, gateway, MASTERCARD)

    removed = cards.remove_payment_method(money, caller, second.id)

    assert removed.card == second and removed.is_default is False
    assert state(repo).payment_methods == (first,)
    event = repo.all_events(TENANT_ID)[-1]
    assert (event.type, event.subject_id, event.after) == ("payment_method.removed", second.id, None)
    assert event.before is not None and event.before["last4"] == "4444"
    with pytest.raises(NotFound):
        cards.remove_payment_method(money, caller, second.id)


def test_after_a_change_of_default_the_old_one_can_be_removed(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                              repo: InMemoryRepository) -> None:
    first = add(money, caller, gateway)
    second = add(money, caller, gateway, MASTERCARD)
    cards.make_default_payment_method(money, caller, second.id)

    cards.remove_payment_method(money, caller, first.id)

    assert [c.id for c in state(repo).payment_methods] == [second.id]


def test_a_card_paying_right_now_cannot_be_removed(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                   set_subscription: SetSubscription) -> None:
    add(money, caller, gateway)
    paying = add(money, caller, gateway, MASTERCARD)
    set_subscription(pending_payment=PendingPayment("pay_1", "increase", "key", paying.id, NOW, "EUR", 100, 11))

    with pytest.raises(PaymentInProgress):
        cards.remove_payment_method(money, caller, paying.id)


def test_unknown_and_other_tenants_cards_are_not_found(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                       provision: Provision) -> None:
    provision(tenant_id="ten_other")
    other = Caller("ten_other", SAO)
    theirs = add(money, other, gateway, MASTERCARD)
    add(money, caller, gateway)

    for flow in (cards.remove_payment_method, cards.make_default_payment_method):
        with pytest.raises(NotFound):
            flow(money, caller, theirs.id)
        with pytest.raises(NotFound):
            flow(money, caller, "pm_00000000000000000000000000")
    assert [v.card.id for v in cards.list_payment_methods(money, other)] == [theirs.id]


def test_the_number_of_cards_is_bounded(money: Deps, caller: Caller, gateway: SandboxGateway) -> None:
    for n in range(MAX_PAYMENT_METHODS):
        add(money, caller, gateway, _luhn(f"424242424242{n:03d}"))

    with pytest.raises(TooManyPaymentMethods):
        add(money, caller, gateway, MASTERCARD)


def test_a_removal_racing_a_change_of_default_loses(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                    repo: InMemoryRepository) -> None:
    add(money, caller, gateway)
    second = add(money, caller, gateway, MASTERCARD)
    before = state(repo)  # what the removal read, before the change of default committed

    cards.make_default_payment_method(money, caller, second.id)

    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset(TENANT_ID).delete(before.payment_method(second.id)))  # type: ignore[arg-type]
    assert state(repo).tenant.default_payment_method_id == second.id


def test_two_additions_of_the_same_card_at_once_save_it_once(money: Deps, caller: Caller, gateway: SandboxGateway,
                                                             repo: InMemoryRepository) -> None:
    add(money, caller, gateway)
    stale = state(repo)
    cards.add_payment_method(money, caller, token(gateway, MASTERCARD))

    # The second addition read the collection before the first committed: its tenant write is stale.
    stale_tenant = replace(stale.tenant, version=stale.tenant.version + 1)
    with pytest.raises(ConcurrentUpdate):
        repo.commit(Changeset(TENANT_ID).write(stale_tenant))
    assert len(state(repo).payment_methods) == 2


def test_without_a_gateway_adding_is_a_wiring_error(deps: Deps, caller: Caller, provision: Provision) -> None:
    provision()
    with pytest.raises(RuntimeError, match="gateway"):
        cards.add_payment_method(deps, caller, "tok_00000000000000000000000000")


def _luhn(stem: str) -> str:
    """`stem` + the check digit that makes it pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(stem)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return stem + str((10 - total % 10) % 10)
