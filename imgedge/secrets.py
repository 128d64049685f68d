"""Secrets that must be the same for every process of one installation, generated once per data dir."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from imgedge import common_settings
from imgedge.settings import Setting


def load_or_create(data_dir: Path, name: str, make: Callable[[], str] | None = None) -> str:
    """The secret in `data_dir/secrets/name`, made once by `make` (32 random URL-safe bytes by default)."""
    path = data_dir / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".new-")
        with os.fdopen(fd, "w") as fh:
            fh.write(make() if make is not None else secrets.token_urlsafe(32))
        try:
            # link() fails if the name exists, so processes starting together agree on the first value,
            # and a reader never sees a half-written file.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def setting_or_file(
    setting: Setting[str], data_dir: Path, file_name: str, make: Callable[[], str] | None = None
) -> str:
    """The secret from its setting when several hosts must agree, else one generated for this data dir."""
    return setting.read() or load_or_create(data_dir, file_name, make)


def load_signing_keys(data_dir: Path) -> tuple[bytes, ...]:
    """`IMGEDGE_KEYS` (comma-separated, first signs) or a key generated once in the data directory."""
    keys = tuple(k.encode() for k in common_settings.KEYS.read())
    return keys or (load_or_create(data_dir, "signing.key").encode(),)
