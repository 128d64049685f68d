"""`imgedge` console script: each package registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import cast

from imgedge import common_settings as C
from imgedge import serve
from imgedge.env import ConfigError
from imgedge.errors import PublicError
from imgedge.imaging.errors import LibvipsUnsupported
from imgedge.secrets import load_signing_keys
from imgedge.subcommands import Lazy, MissingExtra, Subparsers
from imgedge.url.build import build_path, info_path, srcset
from imgedge.url.prompt import Generation, build_prompt_path, size_for_aspect


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show (flags, "unset") or the help
    already says what it is."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "default" in help_text or action.default in (None, False, [], argparse.SUPPRESS):
            return help_text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class VersionAction(argparse.Action):
    """Prints version_text() as it is: argparse's own version action would join its lines."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    """What `imgedge --version` prints: one line per component (more lines may be added here)."""
    try:
        version = metadata.version("imgedge")
    except metadata.PackageNotFoundError:
        version = "unknown (not installed)"
    return "\n".join([f"imgedge {version}", f"Python {platform.python_version()}", *_libvips_lines()])


def _libvips_lines() -> list[str]:
    if importlib.util.find_spec("pyvips") is None:
        return ["libvips: not installed (the 'server' extra)"]
    try:
        from imgedge.imaging.requirements import libvips_summary

        return libvips_summary().splitlines()
    except Exception as exc:  # pyvips is there but found no libvips it can load
        return [f"libvips: cannot be loaded ({exc})"]


def _data_dir() -> Path:
    return Path(C.DATA_DIR.read())


def url_command(args: argparse.Namespace) -> int:
    if (args.prompt is None) == (args.asset_id is None):
        print("imgedge url: give an asset id or --prompt (not both)", file=sys.stderr)
        return 2
    if args.prompt is not None:
        return prompt_url_command(args)
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


def prompt_url_command(args: argparse.Namespace) -> int:
    """A prompt URL (imgedge.url.prompt): always signed, with the transform options as segments."""
    try:
        if args.seed is None or args.unsigned or args.info or args.srcset:
            raise ValueError("--prompt needs --seed, and takes neither --unsigned, --info nor --srcset")
        if args.aspect is not None and (args.gen_width or args.gen_height):
            raise ValueError("give either --aspect or --gen-width and --gen-height")
        if (args.gen_width is None) != (args.gen_height is None):
            raise ValueError("give both --gen-width and --gen-height")
        width, height = (
            (args.gen_width, args.gen_height) if args.gen_width else size_for_aspect(args.aspect or "1:1")
        )
        generation = Generation.of(args.prompt, args.seed, width, height)
        options = _transform_segments(args)
        print(
            args.base + build_prompt_path(generation, key=load_signing_keys(_data_dir())[0], options=options)
        )
    except (ValueError, PublicError) as exc:
        print(f"imgedge url: {exc}", file=sys.stderr)
        return 2
    return 0


def _transform_segments(args: argparse.Namespace) -> list[str]:
    segments = list(args.option)
    for name, value in (
        ("w", args.width), ("h", args.height), ("fit", args.fit), ("g", args.gravity), ("f", args.format),
        ("q", args.quality), ("dpr", args.dpr),
    ):  # fmt: skip
        if value is not None:
            segments.append(f"{name}:{value}")
    if args.expires is not None:
        segments.append(f"exp:{int(time.time() + args.expires)}")
    return segments


def _quality_arg(raw: str) -> int | str:
    if raw.isdigit():
        return int(raw)
    if raw.lower() == "auto" or raw.lower().startswith("auto:"):
        return raw.lower()
    raise argparse.ArgumentTypeError("expected a number or auto[:low|good|best|TARGET]")


def _register_url(sub: Subparsers) -> None:
    p = sub.add_parser(
        "url", help="print a signed transform path for an asset",
        description="Print a signed transform path (or a srcset) for an asset. Signs with the first key of"
        " IMGEDGE_KEYS, else the key generated in IMGEDGE_DATA_DIR/secrets/signing.key.",
    )  # fmt: skip
    p.add_argument(
        "asset_id",
        nargs="?",
        help="the asset's id, as `imgedge ingest` or the API printed it (default: none, with --prompt)",
    )
    p.add_argument(
        "--prompt",
        help="print a prompt URL instead: the image this prompt makes, made on first request (default: none)",
    )
    p.add_argument("--seed", type=int, help="the generation's seed (required with --prompt; default: none)")
    p.add_argument(
        "--aspect", help="the generated original's aspect: 1:1, 16:9, 9:16, 4:3, 3:4 (default: 1:1)"
    )
    p.add_argument(
        "--gen-width",
        type=int,
        help="the generated original's width, with --gen-height (default: from --aspect)",
    )
    p.add_argument(
        "--gen-height",
        type=int,
        help="the generated original's height, with --gen-width (default: from --aspect)",
    )
    p.add_argument("--width", "-w", type=int, help="output width in px (default: free)")
    p.add_argument("--height", type=int, help="output height in px (default: free)")
    p.add_argument(
        "--fit",
        choices=["inside", "cover", "force", "pad"],
        help="resize mode (default: the proxy's, inside)",
    )
    p.add_argument("--gravity", "-g", help="what a cover crop keeps, e.g. ce, sm, fp:0.3:0.4 (default: ce)")
    p.add_argument("--format", "-f", help="avif, webp, jpeg, png, gif or auto (default: auto, from Accept)")
    p.add_argument(
        "--quality", "-q", type=_quality_arg, metavar="Q|auto[:low|good|best|TARGET]",
        help="encoder quality 1-100, or `auto`: the quality that meets a perceptual target "
        "(default: the format's configured quality; auto for f:auto)",
    )  # fmt: skip
    p.add_argument("--dpr", type=float, help="device pixel ratio, 1-4 (default: 1)")
    p.add_argument(
        "--expires", type=int, metavar="SECONDS",
        help="URL stops working after this many seconds (default: never)",
    )  # fmt: skip
    p.add_argument(
        "--option", "-o", action="append", default=[], metavar="NAME:VALUE",
        help="any other option, repeatable (default: none)",
    )  # fmt: skip
    p.add_argument(
        "--srcset", metavar="W1,W2,…", help="print a srcset string for these widths instead (default: off)"
    )
    p.add_argument("--info", action="store_true", help="print the asset's signed /info URL instead")
    p.add_argument("--base", default="", help="prefix, e.g. http://127.0.0.1:8080 (default: none)")
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


def _register_settings(sub: Subparsers) -> None:
    p = sub.add_parser("settings", help="list every IMGEDGE_* setting with its current value or default")
    p.add_argument("--markdown", action="store_true", help="print the README's configuration tables")
    p.set_defaults(func=settings_command)


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--expect", choices=["pyvips-binary", "system"],
        help="also fail unless the loaded libvips came from there (install checks; default: either)",
    )  # fmt: skip


def _register_doctor(sub: Subparsers) -> None:
    p = sub.add_parser(
        "doctor", help="check the libvips imgedge runs on: version, origin, formats, the options it passes",
        description="Report the libvips this installation loads (version, pyvips-binary's or the system's),"
        " the formats it reads and writes, and anything imgedge needs that it lacks, with the fix. Exits 1"
        " when imgedge would refuse to start on it.",
    )  # fmt: skip
    add_doctor_arguments(p)
    p.set_defaults(func=Lazy("imgedge.imaging.requirements:doctor", extra="server"))


def build_parser() -> argparse.ArgumentParser:
    # Registering imports only argparse code; each subcommand's work is imported when it runs
    # (imgedge.subcommands), so the core install without extras can build the whole parser.
    from imgedge.cache import commands as cache_commands
    from imgedge.generator import commands as generator_commands

    parser = Parser(
        prog="imgedge", description="imgedge: image transformation proxy and generator. Every setting is an"
        " IMGEDGE_* environment variable: `imgedge settings` lists them.",
    )  # fmt: skip
    parser.add_argument("--version", action=VersionAction, help="print the version and exit")
    sub = cast("Subparsers", parser.add_subparsers(dest="command", required=True, parser_class=Parser))
    serve.register(sub)
    _register_url(sub)
    _register_settings(sub)
    _register_doctor(sub)
    generator_commands.register(sub)
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
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return 2
    except LibvipsUnsupported as exc:
        print(f"imgedge {args.command}: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
