"""How packages add `imgedge` subcommands without making the command heavy.

Each package registers its parsers (argparse only) and points them at a `Lazy` target: the module that does
the work is imported when its subcommand runs. So `imgedge url` works with only the core installed, and a
subcommand whose extra is missing says which extra to install instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class MissingExtra(RuntimeError):
    def __init__(self, command: str, extra: str, module: str) -> None:
        super().__init__(
            f"imgedge {command} needs the {extra!r} extra (module {module!r} is not installed):"
            f" pip install 'imgedge[{extra}]'"
        )


@dataclass(frozen=True, slots=True)
class Lazy:
    """`module:function`, imported and called with the parsed arguments when the subcommand runs."""

    target: str
    extra: str

    def __call__(self, args: argparse.Namespace) -> int:
        module_name, _, function_name = self.target.partition(":")
        try:
            function: Callable[[argparse.Namespace], int] = getattr(
                importlib.import_module(module_name), function_name
            )
            return function(args)
        except ModuleNotFoundError as exc:
            missing = exc.name or "?"
            if missing.split(".")[0] == "imgedge":
                raise
            raise MissingExtra(getattr(args, "command", "?"), self.extra, missing) from None


def require(*modules: str) -> None:
    """Fails before any work starts when a module the subcommand needs later is not installed."""
    for name in modules:
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
