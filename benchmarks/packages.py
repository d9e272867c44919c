"""Package sizes of `make build`'s output (.aws-sam/build): each function of template.yaml and the layer,
zipped (deflate, as `sam package`/`sam deploy` upload them) and unzipped, as they are deployed: with the
bytecode `make build` compiles into them (__pycache__), which Lambda's read-only /opt cannot make."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.machine import ROOT

BUILD = ROOT / ".aws-sam" / "build"
LAYER = "DomainLayer"
# Lambda's limit on a function and all its layers, unzipped.
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024


@dataclass
class PackageSize:
    name: str
    kind: str  # "function" or "layer"
    zipped: int | None  # None: not in the build
    unzipped: int | None
    files: int = 0


def _files(root: Path) -> list[Path]:
    found = []
    for directory, _dirs, names in os.walk(root):
        found.extend(Path(directory) / name for name in names)
    return sorted(found)


def measure_dir(root: Path, level: int = 6) -> tuple[int, int, int]:
    files = _files(root)
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if level else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method, compresslevel=level or None) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return len(buffer.getvalue()), sum(p.stat().st_size for p in files), len(files)


def measure(function_ids: list[str], build: Path = BUILD, *, fast: bool = False) -> list[PackageSize]:
    """`fast`: stored, not compressed (the smoke test: "zipped" is then the archive's size uncompressed);
    otherwise deflate at zlib's default level 6, as zip tools use."""
    sizes = []
    for name, kind in [*((f, "function") for f in function_ids), (LAYER, "layer")]:
        root = build / name
        if not root.is_dir():
            sizes.append(PackageSize(name, kind, None, None))
            continue
        zipped, unzipped, count = measure_dir(root, 0 if fast else 6)
        sizes.append(PackageSize(name, kind, zipped, unzipped, count))
    return sizes


def build_is_stale(build: Path = BUILD) -> bool:
    """The build is older than a source file of the layer or a function (make build again)."""
    template = build / "template.yaml"
    if not template.exists():
        return True
    built = template.stat().st_mtime
    sources = [*(ROOT / "layers").rglob("*.py"), *(ROOT / "functions").rglob("*.py"), ROOT / "template.yaml",
               ROOT / "layers" / "selfservice" / "requirements.txt"]
    return any(path.stat().st_mtime > built for path in sources if "__pycache__" not in path.parts)
