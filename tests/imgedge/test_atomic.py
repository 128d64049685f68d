from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.atomic import write_atomic


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x" / "file.png"

    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert not target.exists()
    assert list((tmp_path / "x").iterdir()) == []
    write_atomic(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["file.png"]
