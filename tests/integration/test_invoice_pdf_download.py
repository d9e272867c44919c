"""The presigned link downloads over real HTTP: the invoice PDF function against a moto SERVER on
127.0.0.1 (as in the local run), and the link fetched with `requests`, like a browser would."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from moto.server import ThreadedMotoServer
from pypdf import PdfReader
from selfservice import bootstrap
from selfservice.adapters.clock import ManualClock
from selfservice_local.resources import create_resources_from_template, environment_for
from support.events import http_event
from support.functions import call
from support.invoices import POLISH_WITH_VAT_ID, store_invoice

from .conftest import NOW, SAO_ROLE

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name, value in {
            "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-north-1", "AWS_REGION": "eu-north-1",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        resources = create_resources_from_template(TEMPLATE, endpoint_url=endpoint)
        for name, value in environment_for(resources).items():
            monkeypatch.setenv(name, value)
        bootstrap.reset()
        bootstrap.override(clock=ManualClock(NOW))
        yield endpoint
    finally:
        bootstrap.reset()
        server.stop()


def test_the_presigned_link_downloads_the_pdf_over_http(moto_server: str) -> None:
    tenant_id = "ten_01kkbswhg08vv94zt34nq5tdnk"
    invoice = store_invoice(bootstrap.deps().repo, tenant_id, to=POLISH_WITH_VAT_ID)
    event = http_event("invoice_pdf", claims={"tenant_id": tenant_id, "sub": "sao", "roles": SAO_ROLE},
                       path={"invoice_id": invoice.id})

    result = call("invoice_pdf", event)

    assert result.status == 200, result.body
    url = result.body["url"]
    assert url.startswith(moto_server + "/")  # path style on the local endpoint: downloadable as is
    with requests.Session() as http:
        http.trust_env = False  # straight to 127.0.0.1, whatever proxy the environment names
        download = http.get(url, timeout=10)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    assert download.content.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download.content)).pages)
    assert "INV-000001" in text
    assert "Łódź" in text
    assert urlsplit(url).path.endswith(f"/tenants/{tenant_id}/invoices/INV-000001.pdf")
