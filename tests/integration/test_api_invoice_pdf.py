"""GET /invoices/{id}/pdf through the invoice PDF function on moto (SPEC 2.13): a presigned link valid
at most 300 seconds, to a PDF rendered once, stored privately (SSE) under the tenant's prefix and never
replaced; another tenant's invoice is a 404."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from pypdf import PdfReader
from selfservice import bootstrap
from selfservice.adapters import pdf_renderer
from selfservice.adapters.clock import ManualClock
from selfservice.domain.invoices import Invoice
from selfservice.domain.terms import parse_iso
from selfservice.http.schemas import InvoicePdfLinkOut
from selfservice_local.resources import shared_session
from support.invoices import GERMAN_WITH_VAT_ID, store_invoice

from .conftest import Tenant

NOW_ISO = "2026-03-10T12:00:00Z"


class CountingRenderer:
    """The real renderer, counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, invoice: Invoice) -> bytes:
        self.calls += 1
        return pdf_renderer.render_invoice_pdf(invoice)


@pytest.fixture
def renderer(api: ManualClock) -> CountingRenderer:
    counting = CountingRenderer()
    bootstrap.override(render_invoice=counting)
    return counting


@pytest.fixture
def s3(aws: dict[str, str]) -> Any:
    return shared_session().client("s3")  # the region and moto from the `aws` fixture


@pytest.fixture
def bucket(aws: dict[str, str]) -> str:
    return aws["InvoiceBucket"]


@pytest.fixture
def issue(api: ManualClock) -> Callable[..., Invoice]:
    def _issue(tenant: Tenant, **options: Any) -> Invoice:
        return store_invoice(bootstrap.deps().repo, tenant.tenant_id, **options)

    return _issue


def pdf_link(request_as: Any, tenant: Tenant, invoice_id: str, **options: Any) -> Any:
    return request_as(tenant, "invoice_pdf", "invoice_pdf", path={"invoice_id": invoice_id}, **options)


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_the_link_is_presigned_for_at_most_300_seconds_as_an_attachment(
        business: Tenant, issue: Callable[..., Invoice], request_as: Any, renderer: CountingRenderer) -> None:
    invoice = issue(business)

    result = pdf_link(request_as, business, invoice.id)

    assert result.status == 200, result.body
    InvoicePdfLinkOut.model_validate(result.body)
    assert set(result.body) == {"url", "expires_at"}
    expires_at = parse_iso(result.body["expires_at"])
    assert timedelta(0) < expires_at - parse_iso(NOW_ISO) <= timedelta(seconds=300)
    # moto does not enforce a presigned URL's expiry: read the lifetime the URL was signed with.
    query = query_of(result.body["url"])
    assert 0 < int(query["X-Amz-Expires"]) <= 300
    disposition = query["response-content-disposition"]
    assert disposition.startswith("attachment")
    assert 'filename="INV-000001.pdf"' in disposition
    assert query["response-content-type"] == "application/pdf"
    assert unquote(urlsplit(result.body["url"]).path).endswith(
        f"tenants/{business.tenant_id}/invoices/INV-000001.pdf")
    assert renderer.calls == 1


def test_the_pdf_is_stored_encrypted_under_the_tenants_prefix(
        business: Tenant, issue: Callable[..., Invoice], request_as: Any, s3: Any, bucket: str,
        renderer: CountingRenderer) -> None:
    invoice = issue(business, to=GERMAN_WITH_VAT_ID)

    assert pdf_link(request_as, business, invoice.id).status == 200

    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == [f"tenants/{business.tenant_id}/invoices/INV-000001.pdf"]
    stored = s3.get_object(Bucket=bucket, Key=listed["Contents"][0]["Key"])
    assert stored["ServerSideEncryption"] == "AES256"
    assert stored["ContentType"] == "application/pdf"
    data = stored["Body"].read()
    assert data.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "INV-000001" in text
    assert "Müller & Schäfer GmbH" in text
    assert "Reverse charge" in text


def test_a_second_link_neither_renders_nor_uploads_again(
        business: Tenant, issue: Callable[..., Invoice], request_as: Any, s3: Any, bucket: str,
        renderer: CountingRenderer, clock: ManualClock) -> None:
    invoice = issue(business)
    key = f"tenants/{business.tenant_id}/invoices/INV-000001.pdf"
    first = pdf_link(request_as, business, invoice.id)
    before = s3.head_object(Bucket=bucket, Key=key)

    clock.advance(600)
    again = pdf_link(request_as, business, invoice.id)

    assert again.status == 200
    after = s3.head_object(Bucket=bucket, Key=key)
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])
    assert renderer.calls == 1
    assert first.body["expires_at"] == "2026-03-10T12:05:00Z"
    assert again.body["expires_at"] == "2026-03-10T12:15:00Z"


def test_a_stored_pdf_is_kept_even_if_a_render_would_differ(
        business: Tenant, issue: Callable[..., Invoice], request_as: Any, s3: Any, bucket: str,
        renderer: CountingRenderer) -> None:
    invoice = issue(business)
    key = f"tenants/{business.tenant_id}/invoices/INV-000001.pdf"
    s3.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.4 the first rendering", ContentType="application/pdf")

    assert pdf_link(request_as, business, invoice.id).status == 200

    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"%PDF-1.4 the first rendering"
    assert renderer.calls == 0


def test_another_tenants_invoice_is_not_found(
        business: Tenant, enterprise: Tenant, issue: Callable[..., Invoice], request_as: Any, s3: Any,
        bucket: str, renderer: CountingRenderer) -> None:
    theirs = issue(business)

    result = pdf_link(request_as, enterprise, theirs.id)

    assert (result.status, result.error_code) == (404, "not_found")
    assert renderer.calls == 0
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize(
    "invoice_id",
    [
        pytest.param("inv_01kkbswhg0a7m3x9q2r5t8v1wc", id="unknown"),
        pytest.param("INV-000001", id="a-number-not-an-id"),
        pytest.param("inv_" + "x" * 60, id="too-long"),
    ],
)
def test_an_unknown_or_malformed_id_is_not_found(business: Tenant, request_as: Any, renderer: CountingRenderer,
                                                  invoice_id: str) -> None:
    result = pdf_link(request_as, business, invoice_id)

    assert (result.status, result.error_code) == (404, "not_found")
    assert renderer.calls == 0


def test_a_member_who_is_not_the_sao_is_forbidden(business: Tenant, issue: Callable[..., Invoice],
                                                  request_as: Any, renderer: CountingRenderer) -> None:
    invoice = issue(business)

    result = pdf_link(request_as, business, invoice.id, claims={"roles": "[member]"})

    assert (result.status, result.error_code) == (403, "forbidden")
    assert renderer.calls == 0


def test_the_event_fixture_is_served(business: Tenant, request_as: Any, renderer: CountingRenderer) -> None:
    # events/invoice_pdf.json names an invoice no tenant has: a 404 in the shape of every error.
    result = request_as(business, "invoice_pdf", "invoice_pdf")

    assert (result.status, result.error_code) == (404, "not_found")
    assert set(result.body["error"]) == {"code", "message", "details"}
