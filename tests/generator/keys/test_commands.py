"""`imgedge keys` and `imgedge db upgrade` as an operator types them."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.cli import main
from imgedge.generator.keys.repository import ApiKeyRepository
from imgedge.generator.storage.database import open_database
from imgedge.generator.storage.schema import LATEST
from imgedge.generator.storage.urls import sqlite_url


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMGEDGE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_create_prints_the_key_once_on_its_last_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--name", "site", "--rate", "60/min", "--daily-quota", "1000"]) == 0
    out, err = capsys.readouterr()
    key = out.splitlines()[-1]
    assert out == key + "\n"  # stdout is the key alone: KEY=$(imgedge keys create --name …) works
    assert "created key" in err and "'site' (60/min, daily quota 1000)" in err
    record = ApiKeyRepository(open_database(sqlite_url(data_dir / "imgedge.sqlite3"))).by_key(key)
    assert record is not None and record.name == "site"

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert key not in listing
    assert "site" in listing and "60/min" in listing and "1000" in listing and "active" in listing

    assert main(["keys", "revoke", "site"]) == 0
    assert "revoked key" in capsys.readouterr().out
    assert main(["keys", "list"]) == 0 and "revoked 20" in capsys.readouterr().out
    assert main(["keys", "revoke", "nobody"]) == 1
    assert "no key with id or name 'nobody'" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "site"]) == 1
    assert "a key named 'site' already exists" in capsys.readouterr().err


def test_bad_limits_are_refused_before_anything_is_stored(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["keys", "create", "--name", "x", "--rate", "5"])
    assert refused.value.code == 2 and "rate must look like 60/min" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "x", "--daily-quota", "0"]) == 1
    assert "daily quota must be at least 1" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "x", "--max-pixels", "100"]) == 1
    assert "max pixels must be at least 4096" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["keys", "create", "--name", "x", "--max-steps", "many"])
    assert main(["keys", "list"]) == 0 and " x " not in capsys.readouterr().out


def test_caps_are_set_at_creation_and_listed(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--name", "thumbs", "--max-pixels", "262144", "--max-steps", "8"]) == 0
    assert "(default rate, no daily quota, at most 262144 pixels, at most 8 steps)" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "free"]) == 0
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    header, thumbs, free = capsys.readouterr().out.splitlines()
    assert "MAX PIXELS" in header and "MAX STEPS" in header
    assert thumbs.split()[1:6] == ["thumbs", "-", "-", "262144", "8"]
    assert free.split()[1:6] == ["free", "-", "-", "-", "-"]


def test_db_upgrade_applies_what_is_missing_once(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "applied 1: assets, jobs, upload grants, purge outbox" in out and "applied 2: API keys" in out
    assert "applied 3: rejected content hashes, asset content hashes, job owners" in out
    assert "applied 4: asset creators" in out and "applied 5: API key caps" in out
    assert f"upgraded from version 0 to version {LATEST}" in out
    assert main(["db", "upgrade"]) == 0
    assert f"already at version {LATEST}" in capsys.readouterr().out
