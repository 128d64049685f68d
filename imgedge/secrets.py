"""Secrets that must be the same for every process of one installation.

On one machine they are generated once per data dir. Once the store or the database is a shared service
(several hosts, each with its own data dir), a generated secret would differ from host to host, so each one
must then come from the environment, and a missing one stops the start naming its setting.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from imgedge import common_settings
from imgedge.env import ConfigError
from imgedge.settings import Setting

# Backends that live in the data dir; any other scheme is a service several hosts share.
_LOCAL_SCHEMES = {
    common_settings.STORE_URL.name: ("", "file"),
    common_settings.DATABASE_URL.name: ("", "sqlite"),
}


def shared_backend() -> str | None:
    """The setting that points at a shared service (`IMGEDGE_DATABASE_URL=postgresql://…`), if any."""
    for setting in (common_settings.DATABASE_URL, common_settings.STORE_URL):
        if urlsplit(setting.read()).scheme not in _LOCAL_SCHEMES[setting.name]:
            return setting.name
    return None


def _must_be_set(name: str, shared: str) -> ConfigError:
    return ConfigError(
        f"{name} must be set: {shared} is a shared service, so every host needs the same value "
        "(it is not generated per data dir)"
    )


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
    value = setting.read()
    if value:
        return value
    if shared := shared_backend():
        raise _must_be_set(setting.name, shared)
    return load_or_create(data_dir, file_name, make)


def load_signing_keys(data_dir: Path) -> tuple[bytes, ...]:
    """`IMGEDGE_KEYS` (comma-separated, first signs) or a key generated once in the data directory."""
    keys = tuple(k.encode() for k in common_settings.KEYS.read())
    if keys:
        return keys
    if shared := shared_backend():
        raise _must_be_set(common_settings.KEYS.name, shared)
    return (load_or_create(data_dir, "signing.key").encode(),)
