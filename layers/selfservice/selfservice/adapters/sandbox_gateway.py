"""The sandbox payment gateway: a card processor's test mode (SPEC 2.11), the default `PaymentGateway`
and the only `CardTokeniser`.

It behaves like a processor with the test cards of SPEC 2.11 and persists what a processor would keep,
so that it survives across Lambda invocations (`DynamoSandboxStore`, the same table as the domain,
outside every tenant's collection) or lives in memory for the unit tests (`InMemorySandboxStore`):

- tokens: brand, last four, expiry, holder, fingerprint and the test behaviour. Never the number, never
  the CVC: they exist only in the arguments of `tokenise`, are validated, fingerprinted and dropped.
- charges, under their idempotency key: the first outcome (succeeded or declined) is stored with a
  conditional write, and every later call with the same key returns it without charging again; the
  same key with another amount, currency or token is refused. A processing error stores nothing (the
  processor did nothing, so a retry may succeed).
- refunds, under their own idempotency key; a charge is refunded at most once.

Fault injection (`inject_fault`) lets tests reproduce what a real processor does on a bad day: a
time-out before the charge, a time-out after it (the classic lost response: the charge exists, the
caller does not know), and a retryable processing error.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from botocore.exceptions import BotoCoreError, ClientError

from selfservice.adapters.dynamo_items import format_time, parse_time
from selfservice.domain.cards import brand_of, check_card_details, is_expired
from selfservice.domain.errors import GatewayUnavailable, IdempotencyKeyReused, InvalidInput, PaymentFailed
from selfservice.domain.ids import new_id
from selfservice.ports import CardDetails, Charge, Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef as AttributeValue

    Item = dict[str, AttributeValue]

# The fingerprint key when settings give none. A sandbox fingerprint only has to be stable and not
# reveal the number at a glance; a deployment that tokenises numbers people care about sets its own.
DEFAULT_FINGERPRINT_SECRET = "sandbox-fingerprint-secret-v1"  # noqa: S105 (a documented test-mode default)
FINGERPRINT_LENGTH = 24

# What a token does when charged.
Behaviour = Literal["succeed", "card_declined", "insufficient_funds", "processing_error"]
# What a test cannot get from a well-behaved sandbox: see `SandboxGateway.inject_fault`.
FaultKind = Literal["timeout_before_charge", "timeout_after_charge", "processing_error"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

# SPEC 2.11. Every other Luhn-valid number (4242 4242 4242 4242, 5555 5555 5555 4444,
# 3782 822463 10005 ...) tokenises and charges successfully.
REFUSED_AT_TOKENISATION = frozenset({"4000000000000002"})
TEST_CARD_BEHAVIOUR: dict[str, Behaviour] = {
    "4000000000000341": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000119": "processing_error",
}

MAX_AMOUNT = 999_999_999  # minor units; a processor's per-charge ceiling
MAX_KEY_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 500
MAX_NAME_LENGTH = 100
MAX_REMEMBERED_CHARGES = 1000

TIMEOUT_MESSAGE = "The payment gateway did not answer in time; retry with the same Idempotency-Key."
PROCESSING_ERROR_MESSAGE = "The payment gateway could not process the payment; please try again."


# --- what the sandbox stores --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TokenRecord:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    name: str
    fingerprint: str
    behaviour: Behaviour
    created_at: datetime
    owner: str | None = None  # the tenant the token was made for

    def details(self) -> CardDetails:
        return CardDetails(self.token, self.brand, self.last4, self.exp_month, self.exp_year, self.name,
                           self.fingerprint, self.owner)


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    charge: Charge
    token: str
    description: str
    refund_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRecord:
    id: str
    idempotency_key: str
    charge_id: str
    amount: int
    currency: str
    created_at: datetime


class ChargeAlreadyRefunded(Exception):
    """The store refused a refund: the charge was refunded under another idempotency key."""


class SandboxStore(Protocol):
    def put_token(self, record: TokenRecord) -> None: ...

    def get_token(self, token: str) -> TokenRecord | None: ...

    def add_charge(self, record: ChargeRecord) -> ChargeRecord:
        """Store `record` unless a charge exists under its idempotency key (a conditional write);
        return the stored one: `record` itself, or the first one when another call got there first."""
        ...

    def get_charge(self, idempotency_key: str) -> ChargeRecord | None: ...

    def get_charge_by_id(self, charge_id: str) -> ChargeRecord | None: ...

    def add_refund(self, record: RefundRecord, charge: ChargeRecord) -> RefundRecord:
        """Store `record` and mark `charge` (the one it refunds) refunded, atomically, unless a refund
        exists under its key (then return that one). Raises ChargeAlreadyRefunded if the charge has a
        refund under another key."""
        ...

    def get_refund(self, idempotency_key: str) -> RefundRecord | None: ...


# --- the gateway --------------------------------------------------------------------------------------

class SandboxGateway:
    """`PaymentGateway` and `CardTokeniser` of the sandbox. Declines come back as a `Charge` with status
    "declined"; a retryable failure raises `GatewayUnavailable` (see its `outcome_unknown`)."""

    def __init__(self, store: SandboxStore, clock: Clock, *, secret: str = DEFAULT_FINGERPRINT_SECRET) -> None:
        self._store = store
        self._clock = clock
        self._secret = secret.encode()
        self._faults: deque[FaultKind] = deque()
        self._lock = threading.Lock()
        # The charges this instance actually made (a new outcome stored), oldest first; replays are not
        # here. For tests ("exactly one charge"); bounded, since a warm container lives long.
        self.charged: list[Charge] = []

    # --- tokeniser ---------------------------------------------------------------------------------

    def tokenise(self, *, number: str, exp_month: int, exp_year: int, cvc: str, name: str,
                 owner: str | None = None) -> CardDetails:
        now = self._clock.now()
        digits = check_card_details(number, exp_month, exp_year, cvc, now)
        holder = name.strip()
        if not 1 <= len(holder) <= MAX_NAME_LENGTH:
            raise InvalidInput(f"The cardholder name must be 1-{MAX_NAME_LENGTH} characters.", field="name")
        if digits in REFUSED_AT_TOKENISATION:
            raise PaymentFailed("The card was declined.", code="card_declined")
        record = TokenRecord(
            token=new_id("tok", now),
            brand=brand_of(digits),
            last4=digits[-4:],
            exp_month=exp_month,
            exp_year=exp_year,
            name=holder,
            fingerprint=self.fingerprint(digits),
            behaviour=TEST_CARD_BEHAVIOUR.get(digits, "succeed"),
            created_at=now,
            owner=owner,
        )
        self._store.put_token(record)
        return record.details()

    def fingerprint(self, digits: str) -> str:
        """The same card number always gives the same fingerprint; the number cannot be read from it
        without the secret."""
        return hmac.new(self._secret, digits.encode(), hashlib.sha256).hexdigest()[:FINGERPRINT_LENGTH]

    # --- gateway -----------------------------------------------------------------------------------

    def card_details(self, token: str) -> CardDetails:
        record = self._store.get_token(token)
        if record is None:
            raise InvalidInput("The payment gateway does not know this card token.", field="token")
        return record.details()

    def charge(self, *, token: str, amount: int, currency: str, idempotency_key: str,
               description: str) -> Charge:
        """Charge the card behind `token` once per `idempotency_key`.

        Raises InvalidInput for an unknown token or bad arguments, IdempotencyKeyReused when the key was
        used for another amount, currency or token, and GatewayUnavailable for a retryable failure."""
        _check_charge_arguments(amount, currency, idempotency_key, description)
        fault = self._next_fault()
        if fault == "timeout_before_charge":
            raise GatewayUnavailable(TIMEOUT_MESSAGE, outcome_unknown=True)
        if fault == "processing_error":
            raise GatewayUnavailable(PROCESSING_ERROR_MESSAGE, outcome_unknown=False)

        stored = self._store.get_charge(idempotency_key)
        if stored is None:
            stored = self._charge_once(token, amount, currency, idempotency_key, description)
        _check_same_charge(stored, token, amount, currency)

        if fault == "timeout_after_charge":
            raise GatewayUnavailable(TIMEOUT_MESSAGE, outcome_unknown=True)
        return stored.charge

    def _charge_once(self, token: str, amount: int, currency: str, idempotency_key: str,
                     description: str) -> ChargeRecord:
        card = self._store.get_token(token)
        if card is None:
            raise InvalidInput("The payment gateway does not know this card token.", field="token")
        if card.behaviour == "processing_error":
            raise GatewayUnavailable(PROCESSING_ERROR_MESSAGE, outcome_unknown=False)
        now = self._clock.now()
        decline_code: str | None = None
        if is_expired(card.exp_month, card.exp_year, now):
            decline_code = "expired_card"
        elif card.behaviour != "succeed":
            decline_code = card.behaviour
        charge = Charge(
            id=new_id("ch", now),
            idempotency_key=idempotency_key,
            amount=amount,
            currency=currency,
            status="declined" if decline_code else "succeeded",
            decline_code=decline_code,
            created_at=now,
        )
        stored = self._store.add_charge(ChargeRecord(charge, token, description))
        if stored.charge.id == charge.id:
            with self._lock:
                self.charged.append(charge)
                del self.charged[:-MAX_REMEMBERED_CHARGES]
        return stored

    def find_charge(self, idempotency_key: str) -> Charge | None:
        stored = self._store.get_charge(idempotency_key)
        return stored.charge if stored else None

    def refund(self, charge_id: str, *, idempotency_key: str) -> str:
        """Refund a succeeded charge in full, once per `idempotency_key`; returns the refund id."""
        _check_key(idempotency_key)
        earlier = self._store.get_refund(idempotency_key)
        if earlier is not None:
            if earlier.charge_id != charge_id:
                raise IdempotencyKeyReused("This idempotency key was used for another refund.",
                                           field="idempotency_key")
            return earlier.id
        stored = self._store.get_charge_by_id(charge_id)
        if stored is None:
            raise InvalidInput("The payment gateway knows no such charge.", field="charge_id")
        if stored.charge.status != "succeeded":
            raise InvalidInput("Only a succeeded charge can be refunded.", field="charge_id")
        now = self._clock.now()
        refund = RefundRecord(new_id("re", now), idempotency_key, charge_id, stored.charge.amount,
                              stored.charge.currency, now)
        try:
            kept = self._store.add_refund(refund, stored)
        except ChargeAlreadyRefunded:
            raise InvalidInput("The charge has already been refunded.", field="charge_id") from None
        if kept.charge_id != charge_id:
            raise IdempotencyKeyReused("This idempotency key was used for another refund.", field="idempotency_key")
        return kept.id

    # --- fault injection (tests, local experiments) --------------------------------------------------

    def inject_fault(self, kind: FaultKind, times: int = 1) -> None:
        """Make the next `times` calls of `charge` fail as `kind`, in the order injected:

        - "timeout_before_charge": GatewayUnavailable(outcome_unknown=True); nothing is charged or stored.
        - "timeout_after_charge": the charge happens and its outcome is stored under the key (or the
          stored one is looked up), then GatewayUnavailable(outcome_unknown=True): the lost response.
        - "processing_error": GatewayUnavailable(outcome_unknown=False); nothing is charged or stored.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.extend([kind] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> tuple[FaultKind, ...]:
        with self._lock:
            return tuple(self._faults)

    def _next_fault(self) -> FaultKind | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None


def _check_key(idempotency_key: str) -> None:
    if not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH or not idempotency_key.isprintable():
        raise InvalidInput(f"The idempotency key must be 1-{MAX_KEY_LENGTH} printable characters.",
                           field="idempotency_key")


def _check_charge_arguments(amount: int, currency: str, idempotency_key: str, description: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        raise InvalidInput(f"The amount must be a whole number of minor units, 1-{MAX_AMOUNT}.", field="amount")
    if len(currency) != 3 or not (currency.isascii() and currency.isalpha() and currency.isupper()):
        raise InvalidInput("The currency must be an ISO-4217 code such as EUR.", field="currency")
    _check_key(idempotency_key)
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(f"The description must be at most {MAX_DESCRIPTION_LENGTH} characters.",
                           field="description")


def _check_same_charge(stored: ChargeRecord, token: str, amount: int, currency: str) -> None:
    charge = stored.charge
    if (charge.amount, charge.currency, stored.token) != (amount, currency, token):
        raise IdempotencyKeyReused(
            "This idempotency key was used for a charge of another amount, currency or card.",
            field="idempotency_key",
        )


# --- stores -------------------------------------------------------------------------------------------

class InMemorySandboxStore:
    """The sandbox's memory, for unit tests: the same conditional behaviour as the DynamoDB store."""

    def __init__(self) -> None:
        self.tokens: dict[str, TokenRecord] = {}
        self.charges: dict[str, ChargeRecord] = {}
        self.refunds: dict[str, RefundRecord] = {}
        self._charge_keys: dict[str, str] = {}  # charge id -> idempotency key
        self._lock = threading.Lock()

    def put_token(self, record: TokenRecord) -> None:
        with self._lock:
            self.tokens[record.token] = record

    def get_token(self, token: str) -> TokenRecord | None:
        with self._lock:
            return self.tokens.get(token)

    def add_charge(self, record: ChargeRecord) -> ChargeRecord:
        key = record.charge.idempotency_key
        with self._lock:
            if key in self.charges:
                return self.charges[key]
            self.charges[key] = record
            self._charge_keys[record.charge.id] = key
            return record

    def get_charge(self, idempotency_key: str) -> ChargeRecord | None:
        with self._lock:
            return self.charges.get(idempotency_key)

    def get_charge_by_id(self, charge_id: str) -> ChargeRecord | None:
        with self._lock:
            key = self._charge_keys.get(charge_id)
            return self.charges.get(key) if key is not None else None

    def add_refund(self, record: RefundRecord, charge: ChargeRecord) -> RefundRecord:
        charge_key = charge.charge.idempotency_key
        with self._lock:
            if record.idempotency_key in self.refunds:
                return self.refunds[record.idempotency_key]
            current = self.charges[charge_key]
            if current.refund_id is not None:
                raise ChargeAlreadyRefunded(record.charge_id)
            self.refunds[record.idempotency_key] = record
            self.charges[charge_key] = replace(current, refund_id=record.id)
            return record

    def get_refund(self, idempotency_key: str) -> RefundRecord | None:
        with self._lock:
            return self.refunds.get(idempotency_key)


# Items of the DynamoDB store (docs/data-model.md, "Sandbox gateway"): one item per key, outside every
# tenant's collection, so no tenant Query ever reads them.
TOKEN_PK_PREFIX = "SANDBOX#TOKEN#"  # noqa: S105 (a key prefix, not a secret)
CHARGE_PK_PREFIX = "SANDBOX#CHARGE#"
CHARGE_ID_PK_PREFIX = "SANDBOX#CHARGE_ID#"
REFUND_PK_PREFIX = "SANDBOX#REFUND#"
SANDBOX_SK = "SANDBOX"

_LOST_RACE = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


class DynamoSandboxStore:
    """The sandbox's memory in the project's table. Reads are strongly consistent GetItems (an
    idempotency lookup must see the write of the call before); the first outcome under a key is kept by
    `attribute_not_exists` conditions. A DynamoDB failure is the processor being unavailable."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def put_token(self, record: TokenRecord) -> None:
        item: Item = _key(TOKEN_PK_PREFIX, record.token) | {
            "entity": {"S": "sandbox_token"},
            "token": {"S": record.token},
            "brand": {"S": record.brand},
            "last4": {"S": record.last4},
            "exp_month": {"N": str(record.exp_month)},
            "exp_year": {"N": str(record.exp_year)},
            "name": {"S": record.name},
            "fingerprint": {"S": record.fingerprint},
            "behaviour": {"S": record.behaviour},
            "created_at": {"S": format_time(record.created_at)},
            "owner": {"S": record.owner} if record.owner is not None else {"NULL": True},
        }
        with _unavailable(outcome_unknown=False):
            self._client.put_item(TableName=self._table, Item=item)  # token ids are random: never a collision

    def get_token(self, token: str) -> TokenRecord | None:
        item = self._get(TOKEN_PK_PREFIX, token)
        if item is None:
            return None
        return TokenRecord(
            token=item["token"]["S"],
            brand=item["brand"]["S"],
            last4=item["last4"]["S"],
            exp_month=int(item["exp_month"]["N"]),
            exp_year=int(item["exp_year"]["N"]),
            name=item["name"]["S"],
            fingerprint=item["fingerprint"]["S"],
            behaviour=item["behaviour"]["S"],
            created_at=parse_time(item["created_at"]["S"]),
            owner=item.get("owner", {}).get("S"),
        )

    def add_charge(self, record: ChargeRecord) -> ChargeRecord:
        charge = record.charge
        item: Item = _key(CHARGE_PK_PREFIX, charge.idempotency_key) | {
            "entity": {"S": "sandbox_charge"},
            "id": {"S": charge.id},
            "idempotency_key": {"S": charge.idempotency_key},
            "amount": {"N": str(charge.amount)},
            "currency": {"S": charge.currency},
            "status": {"S": charge.status},
            "decline_code": {"NULL": True} if charge.decline_code is None else {"S": charge.decline_code},
            "token": {"S": record.token},
            "description": {"S": record.description},
            "created_at": {"S": format_time(charge.created_at)},
        }
        pointer: Item = _key(CHARGE_ID_PK_PREFIX, charge.id) | {
            "entity": {"S": "sandbox_charge_id"},
            "idempotency_key": {"S": charge.idempotency_key},
        }
        try:
            # The answer to a lost race is the winner's outcome, so only here is "don't know" possible.
            with _unavailable(outcome_unknown=True):
                self._client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Put": {"TableName": self._table, "Item": pointer,
                             "ConditionExpression": "attribute_not_exists(PK)"}},
                ])
        except _RaceLost:
            first = self.get_charge(charge.idempotency_key)
            if first is None:  # a conflicting transaction that did not commit: the caller retries
                raise GatewayUnavailable(TIMEOUT_MESSAGE, outcome_unknown=False) from None
            return first
        return record

    def get_charge(self, idempotency_key: str) -> ChargeRecord | None:
        item = self._get(CHARGE_PK_PREFIX, idempotency_key)
        return _charge_from(item) if item is not None else None

    def get_charge_by_id(self, charge_id: str) -> ChargeRecord | None:
        pointer = self._get(CHARGE_ID_PK_PREFIX, charge_id)
        return self.get_charge(pointer["idempotency_key"]["S"]) if pointer is not None else None

    def add_refund(self, record: RefundRecord, charge: ChargeRecord) -> RefundRecord:
        item: Item = _key(REFUND_PK_PREFIX, record.idempotency_key) | {
            "entity": {"S": "sandbox_refund"},
            "id": {"S": record.id},
            "idempotency_key": {"S": record.idempotency_key},
            "charge_id": {"S": record.charge_id},
            "amount": {"N": str(record.amount)},
            "currency": {"S": record.currency},
            "created_at": {"S": format_time(record.created_at)},
        }
        try:
            with _unavailable(outcome_unknown=True):
                self._client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Update": {
                        "TableName": self._table,
                        "Key": _key(CHARGE_PK_PREFIX, charge.charge.idempotency_key),
                        "UpdateExpression": "SET refund_id = :refund",
                        "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(refund_id)",
                        "ExpressionAttributeValues": {":refund": {"S": record.id}},
                    }},
                ])
        except _RaceLost:
            earlier = self.get_refund(record.idempotency_key)
            if earlier is not None:
                return earlier
            raise ChargeAlreadyRefunded(record.charge_id) from None
        return record

    def get_refund(self, idempotency_key: str) -> RefundRecord | None:
        item = self._get(REFUND_PK_PREFIX, idempotency_key)
        if item is None:
            return None
        return RefundRecord(item["id"]["S"], item["idempotency_key"]["S"], item["charge_id"]["S"],
                            int(item["amount"]["N"]), item["currency"]["S"], parse_time(item["created_at"]["S"]))

    def _get(self, prefix: str, name: str) -> dict[str, Any] | None:
        with _unavailable(outcome_unknown=False):
            response = self._client.get_item(TableName=self._table, Key=_key(prefix, name), ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item


def _key(prefix: str, name: str) -> Item:
    return {"PK": {"S": f"{prefix}{name}"}, "SK": {"S": SANDBOX_SK}}


def _charge_from(item: dict[str, Any]) -> ChargeRecord:
    decline = item.get("decline_code") or {"NULL": True}
    refund = item.get("refund_id")
    return ChargeRecord(
        charge=Charge(
            id=item["id"]["S"],
            idempotency_key=item["idempotency_key"]["S"],
            amount=int(item["amount"]["N"]),
            currency=item["currency"]["S"],
            status=item["status"]["S"],
            decline_code=None if "NULL" in decline else decline["S"],
            created_at=parse_time(item["created_at"]["S"]),
        ),
        token=item["token"]["S"],
        description=item["description"]["S"],
        refund_id=refund["S"] if refund else None,
    )


class _RaceLost(Exception):
    """A condition of the write failed: another call stored under the same key first."""


@contextmanager
def _unavailable(*, outcome_unknown: bool) -> Iterator[None]:
    """Translate DynamoDB failures: a failed condition -> _RaceLost; anything else -> the processor is
    unavailable (GatewayUnavailable, `outcome_unknown` as given: True where a write may have landed)."""
    try:
        yield
    except ClientError as error:
        response: Any = error.response
        code = response.get("Error", {}).get("Code")
        reasons = [reason.get("Code") for reason in response.get("CancellationReasons") or []]
        if code == "ConditionalCheckFailedException" or (
            code == "TransactionCanceledException" and any(reason in _LOST_RACE for reason in reasons)
        ):
            raise _RaceLost() from None
        raise _gateway_unavailable(outcome_unknown) from error
    except BotoCoreError as error:  # connection failures, read time-outs
        raise _gateway_unavailable(outcome_unknown) from error


def _gateway_unavailable(outcome_unknown: bool) -> GatewayUnavailable:
    message = TIMEOUT_MESSAGE if outcome_unknown else PROCESSING_ERROR_MESSAGE
    return GatewayUnavailable(message, outcome_unknown=outcome_unknown)
