"""Back-office provisioning (direct Lambda invoke, not a public route): a tenant with its SAO,
account manager, optional reseller, billing information, users and one subscription."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from selfservice.domain import billing as billing_rules
from selfservice.domain import users as user_rules
from selfservice.domain.errors import InvalidInput, NotFound, TenantExists
from selfservice.domain.ids import new_id
from selfservice.domain.licences import require_seats_cover_users
from selfservice.domain.model import BillingInfo, Contact, Subscription, Tenant, User
from selfservice.domain.terms import add_months, months_between, next_period_end
from selfservice.ports import Changeset
from selfservice.services import Deps
from selfservice.services.account import BillingInfoInput
from selfservice.services.common import audit


@dataclass(frozen=True, slots=True)
class ProvisionRequest:
    tenant_name: str
    sao_subject: str
    sao_email: str
    account_manager: Contact
    reseller: Contact | None
    billing_info: BillingInfoInput
    user_emails: tuple[str, ...]
    plan_id: str
    channel: str
    seats: int
    start: datetime
    tenant_id: str | None = None


@dataclass(frozen=True, slots=True)
class Provisioned:
    tenant: Tenant
    subscription: Subscription
    users: tuple[User, ...]


def current_term(anchor: datetime, term: str, now: datetime) -> tuple[datetime, datetime]:
    """The term that contains `now` for a subscription first started at `anchor` (or the first term,
    if it starts in the future)."""
    if now < anchor:
        return anchor, next_period_end(anchor, anchor, term)
    step = 1 if term == "monthly" else 12
    k = (months_between(anchor, now) // step) * step
    start = add_months(anchor, k)
    if start > now:
        start = add_months(anchor, k - step)
    return start, next_period_end(anchor, start, term)


def provision_tenant(deps: Deps, request: ProvisionRequest) -> Provisioned:
    now = deps.clock.now()
    try:
        plan = deps.catalog.plan(request.plan_id)
    except NotFound:
        # The plan id is part of the request: an unknown one is bad input, not a missing resource.
        raise InvalidInput(f"Unknown plan {request.plan_id!r}.", field="plan_id") from None
    if request.channel not in ("direct", "reseller"):
        raise InvalidInput("channel must be direct or reseller.", field="channel")
    if request.channel == "reseller" and request.reseller is None:
        raise InvalidInput("A reseller subscription needs the reseller's name and e-mail.", field="reseller")
    if request.channel == "direct" and request.reseller is not None:
        raise InvalidInput("A direct subscription has no reseller.", field="reseller")
    if plan.edition == "enterprise" and request.channel == "reseller":
        raise InvalidInput("Enterprise subscriptions are sold directly.", field="channel")
    plan.check_seats(request.seats)
    tenant_id = request.tenant_id or new_id("ten", now)
    if deps.repo.load_tenant(tenant_id) is not None:
        raise TenantExists("A tenant with this id exists.", tenant_id=tenant_id)

    data = request.billing_info
    country = billing_rules.check_country(data.country)
    billing = BillingInfo(
        tenant_id, data.company_name, data.email.strip().lower(), data.address_line1, data.address_line2,
        data.postal_code, data.city, data.region, country, billing_rules.check_vat_id(data.vat_id, country),
        data.po_reference, now,
    )
    tenant = Tenant(tenant_id, request.tenant_name, request.sao_subject, request.account_manager,
                    request.reseller, now)
    managed_by = request.account_manager if plan.edition == "enterprise" else request.reseller
    start, end = current_term(request.start, plan.term, now)
    sub = Subscription(
        tenant_id, new_id("sub", now), plan.id, plan.edition, request.channel,  # type: ignore[arg-type]
        plan.currency, plan.term, request.seats, "active", request.start, start, end, now, managed_by,
    )
    emails = [request.sao_email, *request.user_emails]
    users: list[User] = []
    for email in emails:
        if any(u.email == user_rules.normalise_email(email) for u in users):
            continue
        users.append(User(tenant_id, new_id("usr", now), user_rules.normalise_email(email), "active", now))
    require_seats_cover_users(request.seats, users, now)

    changes = Changeset(tenant_id).write(tenant).write(billing).write(sub)
    for user in users:
        changes.write(user)
    changes.record(audit(tenant_id, "tenant.provisioned", "back-office", tenant_id, now,
                         subscription_id=sub.id, plan_id=plan.id, seats=sub.seats, users=len(users)))
    deps.repo.commit(changes)
    return Provisioned(tenant, sub, tuple(users))
