"""A content hash of a model directory's weights and configuration, recorded in every asset's provenance."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from imgedge.atomic import remove_stale_temporaries, write_atomic

_CONTENT_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model", ".pt", ".ckpt")
_CHUNK = 1 << 20


def model_files(model_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in model_dir.rglob("*")
        if p.is_file() and p.suffix in _CONTENT_SUFFIXES and ".cache" not in p.parts
    )


def _fingerprint(model_dir: Path, files: list[Path]) -> str:
    stats = [(str(p.relative_to(model_dir)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return hashlib.sha256(json.dumps([str(model_dir.resolve()), stats]).encode()).hexdigest()


def hash_model_dir(model_dir: Path, cache_file: Path | None = None) -> str:
    """sha256 over every file's relative path and bytes.

    Real models are gigabytes, so the result is remembered per (path, sizes, mtimes) in `cache_file`.
    """
    files = model_files(model_dir)
    fingerprint = _fingerprint(model_dir, files)
    cache: dict[str, str] = {}
    if cache_file is not None and cache_file.exists():
        try:
            cache = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            cache = {}
        if fingerprint in cache:
            return cache[fingerprint]
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(model_dir)).encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    result = digest.hexdigest()
    if cache_file is not None:
        cache[fingerprint] = result
        remove_stale_temporaries(cache_file.parent, depth=1)  # what a crash mid-write left, before adding one
        write_atomic(cache_file, json.dumps(cache, indent=1).encode())
    return result
