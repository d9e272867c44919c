#!/usr/bin/env bash
# Prints the path of a Python 3.13 interpreter (the Lambda runtime's version), or explains and fails.
set -euo pipefail
for candidate in "${PYTHON313:-}" python3.13 "$(PYENV_VERSION=3.13.0 pyenv which python 2>/dev/null || true)"; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null || true)
  [ -n "$path" ] || continue
  if "$path" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
    echo "$path"; exit 0
  fi
done
for dir in "$HOME"/.pyenv/versions/3.13*/bin; do
  if [ -x "$dir/python3.13" ]; then echo "$dir/python3.13"; exit 0; fi
done
echo "error: Python 3.13 (the Lambda runtime's version) was not found." >&2
echo "Install it (e.g. 'pyenv install 3.13') or set PYTHON313=/path/to/python3.13." >&2
exit 1
