"""DynamoDB misbehaving on demand, at the adapter boundary: a botocore `before-send` hook answers chosen
requests with DynamoDB's own error answers (throttling, a cancelled transaction, a time-out) instead of
sending them. Everything above the wire runs as it would against a real answer: botocore's retries (their
sleeps skipped), the adapters' error translation, Powertools' idempotency handling, the error mapping.

    with faults.throttle("Query"):                      # every Query, for as long as the block runs
        ...
    with faults.conflict(when=writes("INVOICE#"), times=1):
        ...

`injected` counts the answers replaced (each botocore retry is one)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

Params = dict[str, Any]
Predicate = Callable[[str, Params], bool]  # (operation, request parameters) -> inject?

DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"
UNSENT = "https://injected-fault.invalid/"  # no emulated (or real) service answers here


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass
class Fault:
    operation: str | None  # None: any operation
    answer: str  # "throttling", "throughput", "conflict", "internal", "timeout"
    when: Predicate
    times: int | None  # None: every matching request
    injected: int = 0

    def matches(self, operation: str, params: Params) -> bool:
        if self.times is not None and self.injected >= self.times:
            return False
        return (self.operation is None or self.operation == operation) and self.when(operation, params)


def always(_operation: str, _params: Params) -> bool:
    return True


def _keys(params: Params) -> list[tuple[str, str]]:
    """(PK, SK) of every item a request names (Key, Item, and each action of a transaction)."""
    found = []
    for holder in [params, *(a[kind] for a in params.get("TransactItems", []) for kind in a)]:
        for name in ("Key", "Item"):
            item = holder.get(name)
            if isinstance(item, dict) and "PK" in item:
                found.append((str(item["PK"].get("S", "")), str(item.get("SK", {}).get("S", ""))))
    return found


def writes(prefix: str) -> Predicate:
    """Requests naming an item whose PK or SK starts with `prefix` (e.g. "INVOICE#", "SANDBOX#CHARGE#")."""
    return lambda _op, params: any(pk.startswith(prefix) or sk.startswith(prefix) for pk, sk in _keys(params))


def not_writing(prefix: str) -> Predicate:
    inner = writes(prefix)
    return lambda op, params: not inner(op, params)


def on_table(name: str) -> Predicate:
    def match(_op: str, params: Params) -> bool:
        tables = {params.get("TableName")} | {a[kind].get("TableName") for a in params.get("TransactItems", [])
                                              for kind in a}
        return name in tables
    return match


def both(*predicates: Predicate) -> Predicate:
    return lambda op, params: all(p(op, params) for p in predicates)


class DynamoFaults:
    def __init__(self) -> None:
        self.active: list[Fault] = []
        self.injected = 0

    @contextmanager
    def inject(self, operation: str | None, answer: str, *, when: Predicate = always,
               times: int | None = None) -> Iterator[Fault]:
        fault = Fault(operation, answer, when, times)
        self.active.append(fault)
        try:
            yield fault
        finally:
            self.active.remove(fault)

    def throttle(self, operation: str | None = None, **options: Any) -> Any:
        return self.inject(operation, "throttling", **options)

    def conflict(self, operation: str = "TransactWriteItems", **options: Any) -> Any:
        return self.inject(operation, "conflict", **options)

    def before_send(self, request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        # botocore calls every before-send handler and takes the first answer, so moto's own handler sees
        # the request after this one: an injected answer points it elsewhere, or moto would carry out a
        # write the caller is told failed. A retry of the same request starts from the real address.
        request.url = getattr(request, "_address_before_fault", request.url)
        operation = event_name.rsplit(".", 1)[-1]
        try:
            params: Params = json.loads(request.body or b"{}")
        except ValueError:
            return None
        for fault in self.active:
            if fault.matches(operation, params):
                fault.injected += 1
                self.injected += 1
                answer = self._answer(fault, request, params)
                request._address_before_fault = request.url
                request.url = UNSENT
                return answer
        return None

    @staticmethod
    def _answer(fault: Fault, request: Any, params: Params) -> AWSResponse:
        status = 400
        if fault.answer == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        if fault.answer == "throttling":
            body: Params = {"__type": DYNAMODB_ERROR + "ThrottlingException", "message": "Rate of requests exceeds the allowed throughput."}
        elif fault.answer == "throughput":
            body = {"__type": DYNAMODB_ERROR + "ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput for the table was exceeded."}
        elif fault.answer == "internal":
            status = 500
            body = {"__type": DYNAMODB_ERROR + "InternalServerError", "message": "Internal server error"}
        elif fault.answer == "conflict":
            reasons = [{"Code": "None"} for _ in params.get("TransactItems", [])] or [{"Code": "None"}]
            reasons[0] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            body = {"__type": DYNAMODB_ERROR + "TransactionCanceledException",
                    "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                               f"[{', '.join(r['Code'] for r in reasons)}]",
                    "CancellationReasons": reasons}
        else:
            raise ValueError(f"unknown answer {fault.answer!r}")
        headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "INJECTEDFAULT"}
        return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))
