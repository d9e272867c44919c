"""Demo data, put in at start through the real provisioning function (the back office's direct invoke),
so the seeded tenants are exactly what provisioning makes in the cloud.

Tenant ids are fixed, so bookmarks and scripts keep working across restarts; start dates are relative
to the clock, so every term is current whenever the run starts.

Every tenant that pays by card itself (the direct Business tenants and the Enterprise one) also gets a
saved default card: the sandbox's 4242 4242 4242 4242, tokenised through POST /sandbox/card-tokens and
saved with POST /payment-methods, both through the gateway and the real handlers, as the portal does.
The number goes to the tokeniser and nowhere else; only the token is saved."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from selfservice_local.gateway import IncomingRequest
from selfservice_local.server import dispatch

if TYPE_CHECKING:
    from selfservice_local.run import LocalRun

ACCOUNT_MANAGER = {"name": "Ingrid Lindqvist", "email": "ingrid.lindqvist@nordlys.example"}
# The sandbox's always-successful Visa (SPEC 2.11): a public test number, handed to the tokeniser only.
DEMO_CARD_NUMBER = "4242 4242 4242 4242"
DEMO_CARD_CVC = "123"
DEMO_CARD_YEARS = 4  # valid until December, this many years after the clock's year at start
SAO_ROLE = "service_account_owner"


class SeedError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class DemoTenant:
    tenant_id: str
    name: str
    plan_id: str
    channel: str
    seats: int
    started_days_ago: int
    sao_subject: str
    sao_email: str
    user_emails: tuple[str, ...]
    billing_info: dict[str, Any]
    account_manager: dict[str, str] = field(default_factory=lambda: dict(ACCOUNT_MANAGER))
    reseller: dict[str, str] | None = None
    card_holder: str | None = None  # the name on the saved default card; None: no card (a reseller bills)

    def payload(self, now: datetime) -> dict[str, Any]:
        """The provisioning function's direct-invoke payload."""
        start = (now - timedelta(days=self.started_days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)
        return {
            "tenant_id": self.tenant_id,
            "tenant_name": self.name,
            "sao_subject": self.sao_subject,
            "sao_email": self.sao_email,
            "account_manager": self.account_manager,
            "reseller": self.reseller,
            "billing_info": self.billing_info,
            "users": list(self.user_emails),
            "plan_id": self.plan_id,
            "channel": self.channel,
            "seats": self.seats,
            "start": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }


DEMO_TENANTS: tuple[DemoTenant, ...] = (
    DemoTenant(
        tenant_id="ten_demo_business_monthly",
        name="Åkerlund & Öberg AB",
        plan_id="business-monthly-eur",
        channel="direct",
        seats=12,
        started_days_ago=40,  # second monthly term, well inside it
        sao_subject="demo-sao-akerlund",
        sao_email="karin.akerlund@akerlund-oberg.example",
        user_emails=(
            "johan.oberg@akerlund-oberg.example",
            "saga.lindstrom@akerlund-oberg.example",
            "mats.hjalmarsson@akerlund-oberg.example",
            "elin.nystrom@akerlund-oberg.example",
            "bjorn.aslund@akerlund-oberg.example",
        ),
        billing_info={
            "company_name": "Åkerlund & Öberg AB", "email": "faktura@akerlund-oberg.example",
            "address_line1": "Götgatan 14", "address_line2": "4 tr", "postal_code": "118 46",
            "city": "Stockholm", "region": None, "country": "SE", "vat_id": "SE559012345601",
            "po_reference": "PO-2026-0117",
        },
        card_holder="Karin Åkerlund",
    ),
    DemoTenant(
        tenant_id="ten_demo_business_annual",
        name="Müller & Schäfer Datenanalyse GmbH",
        plan_id="business-annual-eur",
        channel="direct",
        seats=25,
        started_days_ago=120,
        sao_subject="demo-sao-mueller",
        sao_email="jonas.mueller@mueller-schaefer.example",
        user_emails=tuple(f"{n}@mueller-schaefer.example" for n in (
            "lea.schaefer", "felix.wagner", "marie.koch", "lukas.becker", "sophie.hoffmann",
            "paul.schulz", "emma.richter", "jonas.klein", "mia.wolf", "noah.neumann",
        )),
        billing_info={
            "company_name": "Müller & Schäfer Datenanalyse GmbH", "email": "rechnung@mueller-schaefer.example",
            "address_line1": "Friedrichstraße 123", "address_line2": None, "postal_code": "10117",
            "city": "Berlin", "region": None, "country": "DE", "vat_id": "DE811907980", "po_reference": None,
        },
        card_holder="Jonas Müller",
    ),
    DemoTenant(
        tenant_id="ten_demo_enterprise",
        name="Αθηναϊκή Ανάλυση Δεδομένων Α.Ε.",  # noqa: RUF001 - Greek on purpose: invoices must render it
        plan_id="enterprise-annual-eur",
        channel="direct",
        seats=150,
        started_days_ago=200,
        sao_subject="demo-sao-papadopoulou",
        sao_email="eleni.papadopoulou@athens-data.example",
        user_emails=tuple(f"{n}@athens-data.example" for n in (
            "nikos.georgiou", "maria.nikolaou", "giorgos.ioannou", "katerina.vasileiou",
        )),
        billing_info={
            "company_name": "Αθηναϊκή Ανάλυση Δεδομένων Α.Ε.",  # noqa: RUF001
            "email": "logistirio@athens-data.example",
            "address_line1": "Λεωφόρος Κηφισίας 44", "address_line2": None, "postal_code": "151 25",
            "city": "Μαρούσι", "region": "Αττική", "country": "GR", "vat_id": "EL094259216",
            "po_reference": "ΠΠ-7731",
        },
        card_holder="Eleni Papadopoulou",
    ),
    DemoTenant(
        tenant_id="ten_demo_reseller",
        name="Данни и Анализи ООД",
        plan_id="business-annual-eur",
        channel="reseller",
        seats=10,
        started_days_ago=75,
        sao_subject="demo-sao-petrova",
        sao_email="desislava.petrova@danni-analizi.example",
        user_emails=("ivan.georgiev@danni-analizi.example", "maria.dimitrova@danni-analizi.example"),
        billing_info={
            "company_name": "Данни и Анализи ООД", "email": "fakturi@danni-analizi.example",
            "address_line1": "бул. Витоша 89", "address_line2": None, "postal_code": "1463",
            "city": "София", "region": None, "country": "BG", "vat_id": None, "po_reference": None,
        },
        reseller={"name": "Baltic Cloud Partners OÜ", "email": "orders@balticcloud.example"},
    ),
)


@dataclass(frozen=True, slots=True)
class SeededTenant:
    tenant_id: str
    name: str
    edition: str
    plan_id: str
    channel: str
    sao_subject: str
    sao_email: str
    subscription_ids: tuple[str, ...]
    managed_by: dict[str, str] | None
    users: int
    default_card: dict[str, str] | None = None  # {id, brand, last4} of the seeded card


    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.tenant_id, "name": self.name, "edition": self.edition, "plan_id": self.plan_id,
            "channel": self.channel, "sao_subject": self.sao_subject, "sao_email": self.sao_email,
            "subscription_ids": list(self.subscription_ids), "managed_by": self.managed_by, "users": self.users,
            "default_card": self.default_card,
        }


def _edition(plan_id: str) -> str:
    return plan_id.split("-")[0]


def seed_demo_tenants(run: LocalRun, tenants: tuple[DemoTenant, ...] = DEMO_TENANTS) -> list[SeededTenant]:
    function = provisioning_function(run)
    now = run.clock.now()
    seeded: list[SeededTenant] = []
    for demo in tenants:
        invocation = run.functions.invoke(function, demo.payload(now))
        result = invocation.result
        if not isinstance(result, dict) or "subscription_id" not in result:
            raise SeedError(f"provisioning {demo.tenant_id} failed: {result!r}")
        managed_by: dict[str, str] | None = None
        if _edition(demo.plan_id) == "enterprise":
            managed_by = {"kind": "account_manager", **demo.account_manager}
        elif demo.reseller is not None:
            managed_by = {"kind": "reseller", **demo.reseller}
        tenant_id = str(result.get("tenant_id", demo.tenant_id))
        card = save_demo_card(run, tenant_id, demo.sao_subject, demo.card_holder) if demo.card_holder else None
        seeded.append(SeededTenant(
            tenant_id=tenant_id, name=demo.name, edition=_edition(demo.plan_id),
            plan_id=demo.plan_id, channel=demo.channel, sao_subject=demo.sao_subject, sao_email=demo.sao_email,
            subscription_ids=(str(result["subscription_id"]),), managed_by=managed_by,
            users=1 + len(demo.user_emails), default_card=card,
        ))
    return seeded


def save_demo_card(run: LocalRun, tenant_id: str, sao_subject: str, holder: str) -> dict[str, str] | None:
    """Tokenise the demo card at the sandbox gateway and save it, as the tenant's SAO would in the portal:
    HTTP requests through the local gateway (JWT check included) to the real handlers. The first card
    of a tenant becomes its default. None (and a warning) when the sandbox is not the configured
    gateway, so that the tokeniser does not exist."""
    token, _ = run.authority.mint(tenant_id, sao_subject, [SAO_ROLE], 300)
    tokenised = _call(run, token, "POST", "/sandbox/card-tokens", {
        "number": DEMO_CARD_NUMBER, "exp_month": 12, "exp_year": run.clock.now().year + DEMO_CARD_YEARS,
        "cvc": DEMO_CARD_CVC, "name": holder,
    })
    if tokenised[0] == 404:
        message = "no demo cards: the sandbox gateway is not configured (no POST /sandbox/card-tokens)"
        if message not in run.warnings:
            run.warnings.append(message)
        return None
    if tokenised[0] != 201:
        raise SeedError(f"tokenising the demo card of {tenant_id} failed: {tokenised[0]} {tokenised[1]!r}")
    saved = _call(run, token, "POST", "/payment-methods", {"token": tokenised[1]["token"]})
    if saved[0] not in (200, 201) or not saved[1].get("is_default"):
        raise SeedError(f"saving the demo card of {tenant_id} failed: {saved[0]} {saved[1]!r}")
    return {"id": str(saved[1]["id"]), "brand": str(saved[1]["brand"]), "last4": str(saved[1]["last4"])}


def _call(run: LocalRun, token: str, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = IncomingRequest(
        method=method, raw_path=path, raw_query="", body=json.dumps(body).encode(), source_ip=run.host,
        headers=[("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"),
                 ("User-Agent", "selfservice-local seed")],
        host=f"{run.host}:{run.port}",
    )
    response = dispatch(run, request).response
    try:
        return response.status, json.loads(response.body) if response.body else None
    except ValueError:
        return response.status, response.body.decode(errors="replace")


def provisioning_function(run: LocalRun) -> str:
    for function in run.template.functions.values():
        if function.code_dir.name == "provisioning":
            return function.logical_id
    raise SeedError("template.yaml has no provisioning function (CodeUri functions/provisioning/): "
                    "no demo data without it; start with --no-seed")
