"""In-memory document store: the fake of `DocumentStore` for the unit tests. The contract test
(tests/integration/test_document_store_contract.py) holds it to the S3 adapter's behaviour."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from selfservice.ports import MAX_DOWNLOAD_LINK_SECONDS, SAFE_DOWNLOAD_FILENAME


@dataclass(frozen=True, slots=True)
class StoredDocument:
    data: bytes
    content_type: str


class InMemoryDocumentStore:
    def __init__(self) -> None:
        self.documents: dict[str, StoredDocument] = {}
        self.puts = 0  # put_once calls, written or not
        self._lock = threading.Lock()

    def put_once(self, key: str, data: bytes, content_type: str) -> bool:
        with self._lock:
            self.puts += 1
            if key in self.documents:
                return False
            self.documents[key] = StoredDocument(bytes(data), content_type)
            return True

    def exists(self, key: str) -> bool:
        with self._lock:
            return key in self.documents

    def presigned_download(self, key: str, filename: str, expires_in: int) -> str:
        if expires_in < 1:
            raise ValueError("expires_in must be at least one second")
        if not re.match(SAFE_DOWNLOAD_FILENAME, filename):
            raise ValueError(f"unsafe download filename {filename!r}")
        query = urlencode({
            "response-content-disposition": f'attachment; filename="{filename}"',
            "X-Amz-Expires": min(expires_in, MAX_DOWNLOAD_LINK_SECONDS),
        })
        return f"memory://documents/{quote(key)}?{query}"
