"""The invoice PDF link (SPEC 2.13) on the fakes: rendered once, stored under the tenant's prefix, never
replaced, presigned for 300 seconds; another tenant's invoice is not found."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from selfservice.adapters.clock import ManualClock
from selfservice.adapters.memory import InMemoryRepository
from selfservice.adapters.memory_documents import InMemoryDocumentStore, StoredDocument
from selfservice.domain.errors import NotFound
from selfservice.domain.invoices import Invoice, InvoicePayment
from selfservice.ports import Changeset
from selfservice.services import Caller, Deps
from selfservice.services.invoice_documents import document_key, invoice_pdf_link
from support.invoices import store_invoice

from .builders import NOW, SAO, TENANT_ID


class CountingRenderer:
    def __init__(self) -> None:
        self.rendered: list[str] = []

    def __call__(self, invoice: Invoice) -> bytes:
        self.rendered.append(invoice.number)
        return f"%PDF-1.7 {invoice.number} {invoice.status}".encode()


@pytest.fixture
def documents() -> InMemoryDocumentStore:
    return InMemoryDocumentStore()


@pytest.fixture
def renderer() -> CountingRenderer:
    return CountingRenderer()


@pytest.fixture
def pdf_deps(deps: Deps, documents: InMemoryDocumentStore, renderer: CountingRenderer) -> Deps:
    return replace(deps, documents=documents, render_invoice=renderer)


def test_the_first_link_renders_and_stores_the_pdf_under_the_tenants_prefix(
        pdf_deps: Deps, repo: InMemoryRepository, caller: Caller, documents: InMemoryDocumentStore,
        renderer: CountingRenderer) -> None:
    invoice = store_invoice(repo, TENANT_ID)

    link = invoice_pdf_link(pdf_deps, caller, invoice.id)

    key = f"tenants/{TENANT_ID}/invoices/INV-000001.pdf"
    assert renderer.rendered == ["INV-000001"]
    assert documents.documents == {key: StoredDocument(b"%PDF-1.7 INV-000001 paid", "application/pdf")}
    query = parse_qs(urlsplit(link.url).query)
    assert query["response-content-disposition"] == ['attachment; filename="INV-000001.pdf"']
    assert query["X-Amz-Expires"] == ["300"]
    assert link.expires_at == NOW + timedelta(seconds=300)


def test_later_links_reuse_the_stored_pdf(pdf_deps: Deps, repo: InMemoryRepository, caller: Caller,
                                          documents: InMemoryDocumentStore, renderer: CountingRenderer,
                                          clock: ManualClock) -> None:
    invoice = store_invoice(repo, TENANT_ID)
    invoice_pdf_link(pdf_deps, caller, invoice.id)

    clock.advance(3600)
    link = invoice_pdf_link(pdf_deps, caller, invoice.id)

    assert renderer.rendered == ["INV-000001"]
    assert documents.puts == 1
    assert link.expires_at == NOW + timedelta(seconds=3600 + 300)


def test_a_stored_pdf_is_never_replaced(pdf_deps: Deps, repo: InMemoryRepository, caller: Caller,
                                        documents: InMemoryDocumentStore, renderer: CountingRenderer) -> None:
    invoice = store_invoice(repo, TENANT_ID)
    key = document_key(invoice)
    documents.put_once(key, b"%PDF-1.4 rendered by an earlier version", "application/pdf")

    invoice_pdf_link(pdf_deps, caller, invoice.id)

    assert renderer.rendered == []
    assert documents.documents[key].data == b"%PDF-1.4 rendered by an earlier version"


def test_the_put_keeps_a_pdf_that_appeared_meanwhile(documents: InMemoryDocumentStore) -> None:
    assert documents.put_once("tenants/t/invoices/INV-000001.pdf", b"first", "application/pdf") is True
    assert documents.put_once("tenants/t/invoices/INV-000001.pdf", b"second", "application/pdf") is False
    assert documents.documents["tenants/t/invoices/INV-000001.pdf"].data == b"first"


def test_another_tenants_invoice_is_not_found(pdf_deps: Deps, repo: InMemoryRepository,
                                              documents: InMemoryDocumentStore, renderer: CountingRenderer) -> None:
    theirs = store_invoice(repo, "ten_other")

    with pytest.raises(NotFound):
        invoice_pdf_link(pdf_deps, Caller(TENANT_ID, SAO), theirs.id)

    assert renderer.rendered == []
    assert documents.documents == {}


def test_an_unknown_invoice_is_not_found(pdf_deps: Deps, caller: Caller) -> None:
    with pytest.raises(NotFound) as missing:
        invoice_pdf_link(pdf_deps, caller, "inv_01kkbswhg0a7m3x9q2r5t8v1wc")

    assert missing.value.details == {"invoice_id": "inv_01kkbswhg0a7m3x9q2r5t8v1wc"}


def test_an_open_invoice_keeps_its_pdf_and_gets_a_final_one_once_paid(
        pdf_deps: Deps, repo: InMemoryRepository, caller: Caller, documents: InMemoryDocumentStore,
        renderer: CountingRenderer) -> None:
    invoice = store_invoice(repo, TENANT_ID, status="open")
    invoice_pdf_link(pdf_deps, caller, invoice.id)
    open_key = f"tenants/{TENANT_ID}/invoices/INV-000001-open.pdf"
    assert set(documents.documents) == {open_key}

    paid = invoice.mark_paid(InvoicePayment("visa", "4242", "ch_1", NOW))
    repo.commit(Changeset(TENANT_ID).write(paid))
    link = invoice_pdf_link(pdf_deps, caller, invoice.id)
    invoice_pdf_link(pdf_deps, caller, invoice.id)

    final_key = f"tenants/{TENANT_ID}/invoices/INV-000001.pdf"
    assert renderer.rendered == ["INV-000001", "INV-000001"]  # once open, once paid
    assert documents.documents[open_key].data == b"%PDF-1.7 INV-000001 open"  # untouched
    assert documents.documents[final_key].data == b"%PDF-1.7 INV-000001 paid"
    assert 'filename="INV-000001.pdf"' in parse_qs(urlsplit(link.url).query)["response-content-disposition"][0]


def test_expiry_drops_the_fraction_of_a_second(pdf_deps: Deps, repo: InMemoryRepository, caller: Caller,
                                               clock: ManualClock) -> None:
    invoice = store_invoice(repo, TENANT_ID)
    clock.advance(0.75)

    link = invoice_pdf_link(pdf_deps, caller, invoice.id)

    assert link.expires_at == NOW + timedelta(seconds=300)


def test_without_a_document_store_it_is_a_wiring_error(deps: Deps, repo: InMemoryRepository, caller: Caller) -> None:
    invoice = store_invoice(repo, TENANT_ID)

    with pytest.raises(RuntimeError, match="INVOICE_BUCKET"):
        invoice_pdf_link(deps, caller, invoice.id)
