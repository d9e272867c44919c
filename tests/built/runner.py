"""Runs inside a bare interpreter (python -S): only the built function, the built layer and the
layer's pinned requirements are importable. Invokes the handler once and prints the result as JSON."""

import importlib
import json
import sys
import time


class Context:
    function_name = "packaging-check"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-north-1:123456789012:function:packaging-check"
    aws_request_id = "packaging-check-request"
    log_group_name = "/aws/lambda/packaging-check"
    log_stream_name = "packaging-check"

    def __init__(self) -> None:
        self._deadline = time.monotonic() + 15

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    module_name, function_name, event_path = sys.argv[1:4]
    with open(event_path, encoding="utf-8") as handle:
        event = json.load(handle)
    module = importlib.import_module(module_name)
    result = getattr(module, function_name)(event, Context())
    print("RESULT " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
