"""The outbox publisher: triggered by the table's stream, filtered to audit records (template.yaml),
it puts each on the project's EventBridge bus (docs/events.md).

Thin: read the stream records, one service call, answer with the records to retry. Lambda retries
from the first failed record and, once its retries are spent, sends the batch's description to the
dead-letter queue; every failure is logged here with the audit id, so it can be found and sent again."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from aws_lambda_powertools import Logger
    from selfservice import bootstrap
    from selfservice.adapters.dynamo_stream import outbox_records
    from selfservice.services.outbox import publish_outbox

    logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    report = publish_outbox(outbox_records(records), bootstrap.event_publisher(),
                            remaining_ms=context.get_remaining_time_in_millis)
    for failure in report.failures:
        logger.error("audit record not published", extra={
            "reason": failure.reason, "problem": failure.message, "sequence_number": failure.sequence_number,
            "event_id": failure.event_id, "tenant_id": failure.tenant_id, "detail_type": failure.detail_type})
    if report.skipped:
        logger.warning("records without an audit record (check the event source filter)",
                       extra={"sequence_numbers": list(report.skipped)})
    logger.info("published", extra={"records": report.records, "published": len(report.published),
                                     "failed": len(report.failures), "attempts": report.attempts})
    return report.batch_item_failures()
