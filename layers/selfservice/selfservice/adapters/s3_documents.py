"""The `DocumentStore` port on the private invoice bucket (template.yaml `InvoiceBucket`).

- Written once: every put is conditional (`If-None-Match: *`), so S3 itself refuses to replace an
  object that exists, whoever asks and however two writers race; the loser keeps the first object.
  (The bucket policy also denies any PutObject under `tenants/` without that condition.)
- Encrypted at rest: every put asks for SSE-S3 (AES256), besides the bucket's default encryption.
- Downloads go through presigned GET URLs that last at most 300 seconds and make the browser save the
  file (`Content-Disposition: attachment; filename="INV-000001.pdf"`).

The client is injected (built lazily by the composition root). For presigned URLs that work in every
region it should use SigV4 with virtual-hosted addressing (botocore keeps path style for an IP endpoint
such as the local run's 127.0.0.1).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from selfservice.ports import MAX_DOWNLOAD_LINK_SECONDS, SAFE_DOWNLOAD_FILENAME

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SSE_ALGORITHM: Final = "AES256"

# The object exists already (412), or another conditional write of the same key is in flight (409:
# S3 asks to retry, and the retry then meets the winner's object with 412).
_EXISTS = frozenset({"PreconditionFailed", "412"})
_CONFLICT = frozenset({"ConditionalRequestConflict", "409"})
_PUT_ATTEMPTS = 3
# HeadObject of a missing key: 404, or 403 when the caller may not list the bucket (the functions may
# not: they read and write single keys under tenants/ only).
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_NOT_TOLD = frozenset({"403", "AccessDenied", "Forbidden"})

_SAFE_FILENAME = re.compile(SAFE_DOWNLOAD_FILENAME)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3DocumentStore:
    def __init__(self, bucket: str, client: S3Client) -> None:
        self._bucket = bucket
        self._client = client

    def put_once(self, key: str, data: bytes, content_type: str) -> bool:
        for attempt in range(1, _PUT_ATTEMPTS + 1):
            try:
                self._client.put_object(
                    Bucket=self._bucket, Key=key, Body=data, ContentType=content_type,
                    ServerSideEncryption=SSE_ALGORITHM, IfNoneMatch="*",
                )
                return True
            except ClientError as error:
                code = _code(error)
                if code in _EXISTS:
                    return False
                if code not in _CONFLICT or attempt == _PUT_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def exists(self, key: str) -> bool:
        """True when the object is there. False when S3 says it is not, and also when S3 will not say
        (403: the function has no s3:ListBucket, so a missing key reads as forbidden): the caller's
        conditional `put_once` then settles it without ever replacing anything."""
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _code(error) in _MISSING | _NOT_TOLD:
                return False
            raise
        return True

    def presigned_download(self, key: str, filename: str, expires_in: int) -> str:
        if expires_in < 1:
            raise ValueError("expires_in must be at least one second")
        if not _SAFE_FILENAME.match(filename):
            raise ValueError(f"unsafe download filename {filename!r}")
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": "application/pdf" if filename.endswith(".pdf") else "application/octet-stream",
            },
            ExpiresIn=min(expires_in, MAX_DOWNLOAD_LINK_SECONDS),
        )
