from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from imgedge.atomic import remove_stale_temporaries, write_atomic


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x" / "file.png"

    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert not target.exists()
    assert list((tmp_path / "x").iterdir()) == []
    write_atomic(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["file.png"]


def test_stale_temporaries_are_removed_at_their_depth_only(tmp_path: Path) -> None:
    old = time.time() - 7200
    files = {
        "stale": tmp_path / "ab" / ".tmp-stale.png",
        "fresh": tmp_path / "ab" / ".tmp-fresh.png",
        "a blob": tmp_path / "ab" / "abcdef.png",
        "another level": tmp_path / "ab" / "cd" / ".tmp-deeper.png",
        "in root": tmp_path / ".tmp-root.png",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for name in ("stale", "a blob", "another level", "in root"):
        os.utime(files[name], (old, old))
    assert remove_stale_temporaries(tmp_path, depth=2) == 1
    assert {name for name, path in files.items() if not path.exists()} == {"stale"}
    assert remove_stale_temporaries(tmp_path / "missing", depth=2) == 0
