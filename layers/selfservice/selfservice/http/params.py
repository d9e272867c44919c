"""Path and query parameters shared by the routers. A path id that does not match its pattern cannot
name anything: the error mapping answers it with 404, exactly like an id that does not exist."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from selfservice.http.schemas import (
    ID_MAX_LENGTH,
    INVOICE_ID_PATTERN,
    PAYMENT_METHOD_ID_PATTERN,
    SUBSCRIPTION_ID_PATTERN,
    USER_ID_PATTERN,
)

SubscriptionId = Annotated[
    str, Path(pattern=SUBSCRIPTION_ID_PATTERN, max_length=ID_MAX_LENGTH, description="A subscription id (sub_...).")
]
UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, max_length=ID_MAX_LENGTH, description="A user id (usr_...).")]
InvoiceId = Annotated[
    str, Path(pattern=INVOICE_ID_PATTERN, max_length=ID_MAX_LENGTH, description="An invoice id (inv_...).")
]
PaymentMethodId = Annotated[
    str, Path(pattern=PAYMENT_METHOD_ID_PATTERN, max_length=ID_MAX_LENGTH, description="A payment method id (pm_...).")
]
