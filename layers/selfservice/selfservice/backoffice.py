"""Back-office provisioning, invoked directly (not a public route): the payload schema, its translation
to the service's request, and the result. Bad input is answered with an error object, never raised, so
the invoking tool gets a readable reason instead of a Lambda error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from selfservice import bootstrap
from selfservice.domain.errors import DomainError
from selfservice.domain.licences import active_users_at
from selfservice.domain.model import Contact
from selfservice.http import presenters
from selfservice.http.schemas import MAX_SEATS, BillingInfoBody, EmailAddress
from selfservice.services.account import BillingInfoInput
from selfservice.services.common import SubscriptionView
from selfservice.services.provisioning import ProvisionRequest, provision_tenant

MAX_USERS = 500

TenantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
PlanId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Name
    email: EmailAddress


class ProvisionTenantPayload(BaseModel):
    # Not strict as a whole: `start` arrives as an ISO-8601 string. Numbers are strict field by field.
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: TenantId | None = Field(default=None, description="Generated when absent.")
    tenant_name: Name
    sao_subject: Subject = Field(description="The `sub` claim of the SAO's tokens.")
    sao_email: EmailAddress
    account_manager: ContactIn
    reseller: ContactIn | None = None
    billing_info: BillingInfoBody
    users: list[EmailAddress] = Field(default_factory=list, max_length=MAX_USERS)
    plan_id: PlanId
    channel: Literal["direct", "reseller"]
    seats: Annotated[int, Field(strict=True, ge=1, le=MAX_SEATS)]
    start: AwareDatetime


def to_request(payload: ProvisionTenantPayload) -> ProvisionRequest:
    billing = payload.billing_info
    reseller = payload.reseller
    return ProvisionRequest(
        tenant_name=payload.tenant_name,
        sao_subject=payload.sao_subject,
        sao_email=str(payload.sao_email),
        account_manager=Contact("account_manager", payload.account_manager.name, str(payload.account_manager.email)),
        reseller=Contact("reseller", reseller.name, str(reseller.email)) if reseller else None,
        billing_info=BillingInfoInput(
            company_name=billing.company_name, email=str(billing.email), address_line1=billing.address_line1,
            address_line2=billing.address_line2, postal_code=billing.postal_code, city=billing.city,
            region=billing.region, country=billing.country, vat_id=billing.vat_id,
            po_reference=billing.po_reference,
        ),
        user_emails=tuple(str(email) for email in payload.users),
        plan_id=payload.plan_id,
        channel=payload.channel,
        seats=payload.seats,
        start=payload.start,
        tenant_id=payload.tenant_id,
    )


def provision(event: Any) -> dict[str, Any]:
    """Validate the direct-invoke payload, provision the tenant, and say what was created."""
    if not isinstance(event, Mapping):
        return presenters.error("validation_error", "The payload must be a JSON object.")
    try:
        payload = ProvisionTenantPayload.model_validate(dict(event))
    except ValidationError as invalid:
        # Imported here: the HTTP error mapping brings Powertools' event handler, which this function
        # (a direct invoke, no routes) needs only to word a refusal.
        from selfservice.http.errors import describe_validation_errors, summary

        described = describe_validation_errors(invalid.errors(include_input=False))
        return presenters.error("validation_error", summary(described, what="payload"), {"errors": described})
    deps = bootstrap.deps()
    try:
        created = provision_tenant(deps, to_request(payload))
    except DomainError as refused:
        return presenters.error(refused.code, refused.message, refused.details)
    now = deps.clock.now()
    return {
        "tenant_id": created.tenant.id,
        "subscription_id": created.subscription.id,
        "sao_subject": created.tenant.sao_subject,
        "users": [presenters.user(user) for user in created.users],
        "subscription": presenters.subscription(
            SubscriptionView(created.subscription, active_users_at(created.users, now))
        ),
    }
