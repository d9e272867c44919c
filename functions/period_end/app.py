"""The period-end applier (SPEC 2.9, docs/period-end.md): every 5 minutes an EventBridge Scheduler
schedule (template.yaml) invokes it; it renews, rolls over, ends and retries what is due.

Thin: one service call with the time budget of this invocation, then the summary logged and returned.
The event's content is not needed (the clock says what is due); it is logged for tracing."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from aws_lambda_powertools import Logger
    from selfservice import bootstrap
    from selfservice.services.period_end import run_period_end

    logger = Logger()

# Stop taking new subscriptions when this little of the invocation is left: one subscription's step
# (a Query, a few writes and a gateway call) fits in it many times over. A tenth of the budget, at most
# a minute (900 s Timeout: the last 60 s are never used).
MAX_SAFETY_MARGIN_MS = 60_000


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    margin = min(MAX_SAFETY_MARGIN_MS, context.get_remaining_time_in_millis() // 10)
    logger.info("period end started", extra={"scheduled_time": (event or {}).get("scheduled_time"),
                                             "execution_id": (event or {}).get("execution_id")})
    summary = run_period_end(bootstrap.deps(), out_of_time=lambda: context.get_remaining_time_in_millis() < margin)
    for error in summary.errors:
        logger.error("a due subscription failed; it stays due and is tried again next run", extra=error)
    result = summary.as_dict()
    logger.info("period end done", extra={k: v for k, v in result.items() if k != "errors"})
    return result
