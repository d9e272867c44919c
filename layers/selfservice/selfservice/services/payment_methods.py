"""Saved cards (SPEC 2.10): list, add by the gateway's token, make one the default, remove the others.

Every flow reads the account collection with its one Query (cards are `A#CARD#` items, the default is
on the tenant) and commits one transaction with its audit record. The API never sees a card number:
adding a card takes the token the client got from the gateway's tokeniser and asks the gateway what
stands behind it (brand, last four, expiry, holder, fingerprint).

Concurrency: an addition and a change of the default write the tenant, so they serialise (one of two
at once gets ConcurrentUpdate); a change of the default also bumps the card it names, so it serialises
with a removal of that card (whose delete is conditioned on the card's version): the default always
names a saved card, and the same card is never saved twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from selfservice.domain import payment_methods as rules
from selfservice.domain.errors import DomainError, InvalidInput, NotFound, PaymentInProgress
from selfservice.domain.ids import new_id
from selfservice.domain.model import PaymentMethod, Tenant, TenantState
from selfservice.ports import Changeset, PaymentGateway
from selfservice.services import Caller, Deps, limits
from selfservice.services.common import audit, load_state

if TYPE_CHECKING:
    from selfservice.services.period_end import InvoiceRetry


@dataclass(frozen=True, slots=True)
class PaymentMethodView:
    """A saved card as the portal shows it."""

    card: PaymentMethod
    is_default: bool
    expired: bool
    # Making a card the default while a subscription is past_due retries its open invoice at once with
    # that card: the outcome (never a refusal of the change of default), or None when nothing was open.
    retry: InvoiceRetry | None = None


@dataclass(frozen=True, slots=True)
class AddedPaymentMethod:
    view: PaymentMethodView
    created: bool  # False: the same card was already saved, and this is it


def list_payment_methods(deps: Deps, caller: Caller) -> list[PaymentMethodView]:
    """The tenant's cards, oldest first (card ids sort by creation), the default flagged."""
    state = load_state(deps, caller)
    now = deps.clock.now()
    return [_view(state.tenant, card, now) for card in state.payment_methods]


def default_payment_method(state: TenantState, now: datetime) -> PaymentMethodView | None:
    """The default card of the account view, or None before the first card."""
    default = state.tenant.default_payment_method_id
    card = state.payment_method(default) if default is not None else None
    return _view(state.tenant, card, now) if card is not None else None


def add_payment_method(deps: Deps, caller: Caller, token: str) -> AddedPaymentMethod:
    state = load_state(deps, caller)
    details = _gateway(deps).card_details(token)  # InvalidInput (field token) for a token it does not know
    if details.owner is not None and details.owner != caller.tenant_id:
        # Another tenant's token is a credential for that tenant's card: refused exactly like an unknown one.
        raise InvalidInput("The payment gateway does not know this card token.", field="token")
    now = deps.clock.now()
    rules.refuse_expired(details.exp_month, details.exp_year, now)

    saved = rules.saved_copy(state.payment_methods, details.fingerprint)
    if saved is not None:
        if (saved.exp_month, saved.exp_year, saved.name) == (details.exp_month, details.exp_year, details.name):
            return AddedPaymentMethod(_view(state.tenant, saved, now), created=False)
        # The same card number with a new expiry or holder (a reissued card): keep one card, up to date.
        renewed = replace(saved, token=details.token, exp_month=details.exp_month, exp_year=details.exp_year,
                          name=details.name, version=saved.version + 1)
        deps.repo.commit(Changeset(caller.tenant_id).write(renewed).record(
            audit(caller.tenant_id, "payment_method.updated", caller.subject, saved.id, now,
                  before=_summary(saved), after=_summary(renewed))
        ))
        return AddedPaymentMethod(_view(state.tenant, renewed, now), created=False)

    rules.refuse_more_than_allowed(state.payment_methods)
    card = PaymentMethod(
        tenant_id=caller.tenant_id, id=new_id("pm", now), token=details.token, brand=details.brand,
        last4=details.last4, exp_month=details.exp_month, exp_year=details.exp_year, name=details.name,
        fingerprint=details.fingerprint, created_at=now,
    )
    is_default = rules.needs_default(state.tenant, state.payment_methods)
    # The tenant is written by every addition (bumped, and naming the first card as the default), so
    # two additions of the same card at once (a double click) cannot both pass the fingerprint check.
    tenant = _with_default(state.tenant, card.id) if is_default else _bumped(state.tenant)
    changes = Changeset(caller.tenant_id).write(card).write(tenant)
    changes.record(audit(caller.tenant_id, "payment_method.added", caller.subject, card.id, now,
                         after=_summary(card) | {"is_default": is_default}))
    deps.repo.commit(changes)
    # The first card becomes the default: like making a card the default, that retries a past_due
    # subscription's open invoice at once (a subscription renewed without any card is past_due).
    retry = retry_past_due_payment_with_new_default(deps, caller, state, card) if is_default else None
    return AddedPaymentMethod(replace(_view(tenant, card, now), retry=retry), created=True)


def make_default_payment_method(deps: Deps, caller: Caller, payment_method_id: str) -> PaymentMethodView:
    state = load_state(deps, caller)
    card = _find(state, payment_method_id)
    now = deps.clock.now()
    if state.tenant.default_payment_method_id == card.id:
        return _view(state.tenant, card, now)  # already the default: nothing changes, nothing to record
    rules.refuse_expired(card.exp_month, card.exp_year, now)

    tenant = _with_default(state.tenant, card.id)
    # Bumping the card makes a concurrent removal of it (conditioned on its version) lose the race.
    bumped = replace(card, version=card.version + 1)
    deps.repo.commit(
        Changeset(caller.tenant_id).write(tenant).write(bumped).record(
            audit(caller.tenant_id, "payment_method.default_changed", caller.subject, card.id, now,
                  before={"default_payment_method_id": state.tenant.default_payment_method_id},
                  after={"default_payment_method_id": card.id})
        )
    )
    retry = retry_past_due_payment_with_new_default(deps, caller, state, bumped)
    return replace(_view(tenant, bumped, now), retry=retry)


def retry_past_due_payment_with_new_default(deps: Deps, caller: Caller, state: TenantState,
                                            card: PaymentMethod) -> InvoiceRetry | None:
    """SPEC 2.9: "making a card the default retries the open invoice of a past_due subscription at once".

    Called after the new default is committed, so a failed retry never undoes the change of default: a
    decline is reported in the answer, not raised. The retry is the applier's own step
    (services/period_end.py): the open invoice charged with this card under a key derived from the
    invoice and the attempt, the subscription active again when paid, still past_due (the attempt
    counted, the schedule kept) when not. No extra read when nothing is past_due."""
    past_due = next((s for s in state.subscriptions if s.status == "past_due" and s.open_invoice_id), None)
    if past_due is None:
        return None
    # Imported here: the account view reads the default card through this module, and should not load
    # the applier and the payment engine on its cold start.
    from selfservice.services import period_end

    try:
        # A charge the SAO sets off, like a payment: it counts against the subscription's hourly limit
        # (services/limits.py), or switching defaults would try card after card. Over it: not attempted.
        limits.count_charge_attempt(deps, caller.tenant_id, past_due.id)
        return period_end.retry_open_invoice(deps, caller.tenant_id, past_due.id, actor=caller.subject,
                                             payment_method_id=card.id)
    except DomainError:  # e.g. the gateway refusing the token, or the limit: the retry schedule still stands
        return period_end.InvoiceRetry(past_due.id, past_due.open_invoice_id, "not_attempted", past_due.status)


def remove_payment_method(deps: Deps, caller: Caller, payment_method_id: str) -> PaymentMethodView:
    state = load_state(deps, caller)
    card = _find(state, payment_method_id)
    rules.refuse_removing_default(state.tenant, card)
    if any(sub.pending_payment and sub.pending_payment.payment_method_id == card.id for sub in state.subscriptions):
        raise PaymentInProgress("A payment with this card is under way; try again in a moment.",
                                payment_method_id=card.id)
    now = deps.clock.now()
    deps.repo.commit(Changeset(caller.tenant_id).delete(card).record(
        audit(caller.tenant_id, "payment_method.removed", caller.subject, card.id, now, before=_summary(card))
    ))
    return PaymentMethodView(card, is_default=False, expired=rules.card_expired(card, now))


def _gateway(deps: Deps) -> PaymentGateway:
    if deps.gateway is None:
        raise RuntimeError("no payment gateway is wired: check PAYMENT_GATEWAY and the composition root")
    return deps.gateway


def _find(state: TenantState, payment_method_id: str) -> PaymentMethod:
    card = state.payment_method(payment_method_id)
    if card is None:  # another tenant's card is not in this collection: the same 404
        raise NotFound("No such payment method.", payment_method_id=payment_method_id)
    return card


def _with_default(tenant: Tenant, payment_method_id: str) -> Tenant:
    return replace(tenant, default_payment_method_id=payment_method_id, version=tenant.version + 1)


def _bumped(tenant: Tenant) -> Tenant:
    return replace(tenant, version=tenant.version + 1)


def _view(tenant: Tenant, card: PaymentMethod, now: datetime) -> PaymentMethodView:
    return PaymentMethodView(card, tenant.default_payment_method_id == card.id, rules.card_expired(card, now))


def _summary(card: PaymentMethod) -> dict[str, Any]:
    """What the audit trail keeps of a card: what the portal shows, never the token."""
    return {"brand": card.brand, "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year,
            "name": card.name}
