"""The DocumentStore contract, held by the S3 adapter (on moto, the template's bucket) and by the
in-memory fake alike: write once and keep the first, existence, short-lived attachment links. Then what
only S3 can show: encryption asked for by the adapter itself, and S3's answers for races and for a
missing key read without s3:ListBucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.config import Config
from botocore.stub import Stubber
from selfservice.adapters.memory_documents import InMemoryDocumentStore
from selfservice.adapters.s3_documents import S3DocumentStore
from selfservice.ports import DocumentStore
from selfservice_local.resources import shared_session

KEY = "tenants/ten_a/invoices/INV-000001.pdf"
S3_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})


def _s3(aws: dict[str, str]) -> Any:
    return shared_session().client("s3", config=S3_CONFIG)


def _memory(_request: pytest.FixtureRequest) -> DocumentStore:
    return InMemoryDocumentStore()


def _s3_store(request: pytest.FixtureRequest) -> DocumentStore:
    aws: dict[str, str] = request.getfixturevalue("aws")
    return S3DocumentStore(aws["InvoiceBucket"], _s3(aws))


@pytest.fixture(params=[pytest.param(_memory, id="memory"), pytest.param(_s3_store, id="s3")])
def store(request: pytest.FixtureRequest) -> DocumentStore:
    make: Callable[[pytest.FixtureRequest], DocumentStore] = request.param
    return make(request)


def test_a_document_is_written_once_and_the_first_is_kept(store: DocumentStore) -> None:
    assert store.exists(KEY) is False

    assert store.put_once(KEY, b"%PDF first", "application/pdf") is True
    assert store.put_once(KEY, b"%PDF second", "application/pdf") is False

    assert store.exists(KEY) is True
    assert store.exists(KEY.replace("000001", "000002")) is False


@pytest.mark.parametrize(("asked", "granted"), [(300, 300), (60, 60), (3600, 300)])
def test_links_are_attachments_that_live_at_most_300_seconds(store: DocumentStore, asked: int, granted: int) -> None:
    store.put_once(KEY, b"%PDF", "application/pdf")

    url = store.presigned_download(KEY, "INV-000001.pdf", asked)

    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(granted)]
    assert query["response-content-disposition"] == ['attachment; filename="INV-000001.pdf"']


def test_a_link_needs_a_positive_lifetime(store: DocumentStore) -> None:
    with pytest.raises(ValueError, match="at least one second"):
        store.presigned_download(KEY, "INV-000001.pdf", 0)


@pytest.mark.parametrize("filename", ['INV"1.pdf', "INV\r\nX-Injected: 1.pdf", "../INV.pdf", ""])
def test_unsafe_download_names_are_refused(store: DocumentStore, filename: str) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        store.presigned_download(KEY, filename, 300)


# ------------------------------------------------------------------------------------------------
# S3 only


def test_the_adapter_asks_for_encryption_itself(aws: dict[str, str]) -> None:
    client = _s3(aws)
    client.create_bucket(Bucket="plain-bucket-without-default-encryption",
                         CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    store = S3DocumentStore("plain-bucket-without-default-encryption", client)

    store.put_once(KEY, b"%PDF", "application/pdf")

    head = client.head_object(Bucket="plain-bucket-without-default-encryption", Key=KEY)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/pdf"


def test_the_put_is_conditional_and_the_link_carries_the_content_type(aws: dict[str, str]) -> None:
    client = _s3(aws)
    store = S3DocumentStore(aws["InvoiceBucket"], client)
    store.put_once(KEY, b"%PDF first", "application/pdf")

    with pytest.raises(client.exceptions.ClientError) as refused:
        client.put_object(Bucket=aws["InvoiceBucket"], Key=KEY, Body=b"x", IfNoneMatch="*")

    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"  # moto honours If-None-Match
    query = parse_qs(urlsplit(store.presigned_download(KEY, "INV-000001.pdf", 300)).query)
    assert query["response-content-type"] == ["application/pdf"]


def _stubbed(aws: dict[str, str]) -> tuple[S3DocumentStore, Stubber]:
    client = _s3(aws)
    return S3DocumentStore(aws["InvoiceBucket"], client), Stubber(client)


def test_a_missing_key_read_without_list_permission_counts_as_missing(aws: dict[str, str]) -> None:
    store, stub = _stubbed(aws)
    stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
    stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stub.add_client_error("head_object", service_error_code="500", http_status_code=500)

    with stub:
        assert store.exists(KEY) is False
        assert store.exists(KEY) is False
        with pytest.raises(Exception, match="500"):
            store.exists(KEY)


def test_a_racing_writer_is_retried_and_the_winner_kept(aws: dict[str, str]) -> None:
    store, stub = _stubbed(aws)
    stub.add_client_error("put_object", service_error_code="ConditionalRequestConflict", http_status_code=409)
    stub.add_client_error("put_object", service_error_code="PreconditionFailed", http_status_code=412)

    with stub:
        assert store.put_once(KEY, b"%PDF", "application/pdf") is False
    stub.assert_no_pending_responses()


def test_other_put_errors_are_raised(aws: dict[str, str]) -> None:
    store, stub = _stubbed(aws)
    stub.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)

    with stub, pytest.raises(Exception, match="AccessDenied"):
        store.put_once(KEY, b"%PDF", "application/pdf")
