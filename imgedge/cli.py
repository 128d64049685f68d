"""`imgedge` console script: each package registers its own subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imgedge import common_settings as C
from imgedge import serve
from imgedge.env import ConfigError
from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path, info_path, srcset


def _data_dir() -> Path:
    return Path(C.DATA_DIR.read())


def url_command(args: argparse.Namespace) -> int:
    key = None if args.unsigned else load_signing_keys(_data_dir())[0]
    if args.info:
        print(args.base + info_path(args.asset_id, key=key))
        return 0
    options = {
        "fit": args.fit, "gravity": args.gravity, "fmt": args.format, "quality": args.quality,
        "dpr": args.dpr, "expires_in": args.expires, "height": args.height, "extra": args.option,
    }  # fmt: skip
    try:
        if args.srcset:
            widths = [int(w) for w in args.srcset.split(",") if w.strip()]
            print(srcset(args.asset_id, widths, key=key, base_url=args.base, **options))
        else:
            print(args.base + build_path(args.asset_id, key=key, width=args.width, **options))
    except ValueError as exc:
        print(f"imgedge url: {exc}", file=sys.stderr)
        return 2
    return 0


def _quality_arg(raw: str) -> int | str:
    if raw.isdigit():
        return int(raw)
    if raw.lower() == "auto" or raw.lower().startswith("auto:"):
        return raw.lower()
    raise argparse.ArgumentTypeError("expected a number or auto[:low|good|best|TARGET]")


def _register_url(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("url", help="print a signed transform path for an asset")
    p.add_argument("asset_id")
    p.add_argument("--width", "-w", type=int)
    p.add_argument("--height", type=int)
    p.add_argument("--fit", choices=["inside", "cover", "force", "pad"])
    p.add_argument("--gravity", "-g")
    p.add_argument("--format", "-f")
    p.add_argument(
        "--quality", "-q", type=_quality_arg, metavar="Q|auto[:low|good|best|TARGET]",
        help="encoder quality 1-100, or `auto`: the quality that meets a perceptual target",
    )  # fmt: skip
    p.add_argument("--dpr", type=float)
    p.add_argument("--expires", type=int, metavar="SECONDS", help="URL stops working after this many seconds")
    p.add_argument(
        "--option", "-o", action="append", default=[], metavar="NAME:VALUE", help="any other option"
    )
    p.add_argument("--srcset", metavar="W1,W2,…", help="print a srcset string for these widths instead")
    p.add_argument("--info", action="store_true", help="print the asset's signed /info URL instead")
    p.add_argument("--base", default="", help="prefix, e.g. http://127.0.0.1:8080")
    p.add_argument("--unsigned", action="store_true", help="use '_' instead of a signature")
    p.set_defaults(func=url_command)


def settings_command(args: argparse.Namespace) -> int:
    from imgedge.settings import all_settings, markdown_tables

    if args.markdown:
        print(markdown_tables(), end="")
        return 0
    for setting in all_settings():
        value = "(secret)" if setting.kind == "secret" and setting.is_set() else setting.read()
        print(
            f"{setting.name}={value}"
            if setting.is_set()
            else f"{setting.name} (default {setting.default_text})"
        )
    return 0


def _register_settings(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("settings", help="list every IMGEDGE_* setting with its current value or default")
    p.add_argument("--markdown", action="store_true", help="print the README's configuration tables")
    p.set_defaults(func=settings_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imgedge", description="image transformation proxy and generator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.register(sub)
    _register_url(sub)
    _register_settings(sub)
    from imgedge.generator import commands as generator_commands

    generator_commands.register(sub)
    try:
        from imgedge.cache import commands as cache_commands
    except ImportError:
        pass
    else:
        cache_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from imgedge.errors import PublicError

    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except PublicError as exc:
        print(f"imgedge {args.command}: {exc.message}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"imgedge {args.command}: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
