"""The account view and billing information (SPEC 2.12, SPEC 3 GET /account)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from selfservice.domain import billing as billing_rules
from selfservice.domain.model import BillingInfo, Tenant
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps
from selfservice.services.common import SubscriptionView, audit, load_state, view
from selfservice.services.payment_methods import PaymentMethodView, default_payment_method


@dataclass(frozen=True, slots=True)
class AccountView:
    tenant: Tenant
    billing_info: BillingInfo | None
    default_payment_method_id: str | None
    subscriptions: list[SubscriptionView]
    default_payment_method: PaymentMethodView | None = None


@dataclass(frozen=True, slots=True)
class BillingInfoInput:
    company_name: str
    email: str
    address_line1: str
    address_line2: str | None
    postal_code: str
    city: str
    region: str | None
    country: str
    vat_id: str | None
    po_reference: str | None


def get_account(deps: Deps, caller: Caller) -> AccountView:
    state = load_state(deps, caller)
    now = deps.clock.now()
    return AccountView(state.tenant, state.billing_info, state.tenant.default_payment_method_id,
                       [view(state, s, now) for s in state.subscriptions],
                       default_payment_method(state, now))


def get_billing_info(deps: Deps, caller: Caller) -> BillingInfo | None:
    return load_state(deps, caller).billing_info


def _billing_summary(info: BillingInfo | None) -> dict[str, object] | None:
    if info is None:
        return None
    return {
        "company_name": info.company_name, "email": info.email, "address_line1": info.address_line1,
        "address_line2": info.address_line2, "postal_code": info.postal_code, "city": info.city,
        "region": info.region, "country": info.country, "vat_id": info.vat_id,
        "po_reference": info.po_reference,
    }


def update_billing_info(deps: Deps, caller: Caller, data: BillingInfoInput) -> BillingInfo:
    state = load_state(deps, caller)
    now = deps.clock.now()
    country = billing_rules.check_country(data.country)
    vat_id = billing_rules.check_vat_id(data.vat_id, country)
    current = state.billing_info
    fields: dict[str, object] = {
        "company_name": data.company_name, "email": data.email.strip().lower(),
        "address_line1": data.address_line1, "address_line2": data.address_line2,
        "postal_code": data.postal_code, "city": data.city, "region": data.region, "country": country,
        "vat_id": vat_id, "po_reference": data.po_reference, "updated_at": now,
    }
    if current is None:
        updated = BillingInfo(tenant_id=caller.tenant_id, version=1, **fields)  # type: ignore[arg-type]
    else:
        updated = replace(current, version=current.version + 1, **fields)  # type: ignore[arg-type]
    event = audit(caller.tenant_id, "billing_info.updated", caller.subject, caller.tenant_id, now,
                  before=_billing_summary(current), after=_billing_summary(updated))
    deps.repo.commit(Changeset(caller.tenant_id).write(updated).record(event))
    return updated
