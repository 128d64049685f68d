"""Facts about the libvips this process loaded: its version, where it came from, what its savers accept.

pyvips binds to one of two libraries: the one pyvips-binary bundles (the default install), or the
system's, when pyvips compiled its binding against a libvips it found at install time (Debian's
`libvips-dev` is 8.14). Both ship the binding as `_libvips.abi3.so`, so a pyvips built against the system
silently replaces pyvips-binary's; only the library mapped into the process tells which one runs.
"""

from __future__ import annotations

import functools
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

import pyvips

BINARY_DISTRIBUTION = "pyvips-binary"


@dataclass(frozen=True, slots=True)
class Binding:
    """How pyvips reached libvips in this process."""

    pyvips: str  # pyvips' own version
    api_mode: bool  # a compiled binding (pyvips-binary's, or one built against the system) vs. dlopen
    library: str | None  # the libvips shared object mapped into this process (Linux), if found
    bundled: str | None  # pyvips-binary's version when it is installed, used or not
    from_bundle: bool  # the mapped libvips is pyvips-binary's

    @property
    def origin(self) -> str:
        return BINARY_DISTRIBUTION if self.from_bundle else "system"

    def describe(self) -> str:
        mode = "API mode" if self.api_mode else "ABI mode"
        where = f" at {self.library}" if self.library else ""
        if self.from_bundle:
            return f"from {BINARY_DISTRIBUTION} {self.bundled} (pyvips {self.pyvips}, {mode}){where}"
        how = "a binding compiled against it" if self.api_mode else "dlopen"
        return f"from the system (pyvips {self.pyvips} through {how}){where}"

    @property
    def shadowed_bundle(self) -> bool:
        """pyvips-binary is installed but another libvips runs: the install went wrong, see the module doc."""
        return self.bundled is not None and not self.from_bundle


def version() -> tuple[int, int, int]:
    return (pyvips.version(0), pyvips.version(1), pyvips.version(2))


def version_text() -> str:
    return ".".join(str(part) for part in version())


def mapped_library() -> str | None:
    """The libvips shared object in this process's memory map (libvips-cpp is the C++ wrapper, not it)."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                name = Path(path).name
                if name.startswith("libvips") and ".so" in name and not name.startswith("libvips-cpp"):
                    return path
    except OSError:
        pass
    return None


def _bundle() -> tuple[str | None, Path | None]:
    try:
        dist = importlib.metadata.distribution(BINARY_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None, None
    return dist.version, Path(str(dist.locate_file("pyvips_binary.libs"))).resolve()


@functools.lru_cache(maxsize=1)
def binding() -> Binding:
    library = mapped_library()
    bundled, libs_dir = _bundle()
    from_bundle = (
        library is not None and libs_dir is not None and Path(library).resolve().is_relative_to(libs_dir)
    )
    return Binding(
        pyvips=pyvips.__version__, api_mode=bool(pyvips.API_mode), library=library, bundled=bundled,
        from_bundle=from_bundle,
    )  # fmt: skip


def operation_exists(name: str) -> bool:
    return bool(pyvips.type_find("VipsOperation", name))


def saver_for(suffix: str) -> str | None:
    """The operation libvips picks for `write_to_buffer(suffix)`, or None when it has no such saver."""
    pyvips.vips_lib.vips_error_freeze()  # a miss is an answer here, not an error for the next caller
    try:
        pointer = pyvips.vips_lib.vips_foreign_find_save_target(suffix.encode())
    finally:
        pyvips.vips_lib.vips_error_thaw()
    if pointer == pyvips.ffi.NULL:
        return None
    return str(pyvips.ffi.string(pointer).decode())


@functools.lru_cache(maxsize=64)
def optional_arguments(operation: str) -> frozenset[str]:
    """The optional arguments an operation accepts here (they vary by libvips version and build)."""
    return frozenset(pyvips.Introspect.get(operation).optional_input)


@functools.lru_cache(maxsize=32)
def saver_arguments(suffix: str) -> frozenset[str]:
    saver = saver_for(suffix)
    return optional_arguments(saver) if saver else frozenset()
