"""GET /invoices/{invoice_id}/pdf

Thin: the router in the layer (selfservice.http.routes.invoice_pdf) parses, calls one service and presents.
The PDF library (fpdf2) is imported on the first render, never by the other functions."""

from typing import Any

from selfservice.coldstart import loading

with loading():  # no garbage collection while the function's modules load (selfservice/coldstart.py)
    from selfservice.http.app import build_resolver
    from selfservice.http.routes import invoice_pdf

    app = build_resolver(invoice_pdf.router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
