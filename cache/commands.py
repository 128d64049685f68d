"""`imgedge purge ASSET_ID` / `imgedge purge --source URL`: ask the running proxy to purge every variant of an
asset, or of a remote or S3 source, from every tier."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from imgedge import common_settings as C
from imgedge.secrets import setting_or_file
from imgedge.subcommands import Lazy

if TYPE_CHECKING:
    import httpx

    from imgedge.subcommands import Subparsers


def default_proxy_url(environ: dict[str, str] | None = None) -> str:
    return f"http://{C.HOST.read(environ)}:{C.PORT.read(environ)}"


def register(subparsers: Subparsers) -> None:
    """Add the purge subcommand to an argparse subparsers object; it sets `func` to call with the args."""
    parser = subparsers.add_parser(
        "purge", help="purge every cached variant of an asset (or --source URL) from every proxy process"
    )
    parser.add_argument("asset_id", nargs="?", help="the asset whose variants to purge")
    parser.add_argument(
        "--source", default=None, help="a remote or S3 source URL instead of an asset id (default: none)"
    )
    parser.add_argument(
        "--proxy-url", default=None, help="the proxy (default: http://$IMGEDGE_HOST:$IMGEDGE_PORT)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="holds the admin token when IMGEDGE_ADMIN_TOKEN is unset (default $IMGEDGE_DATA_DIR or ./data)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="how long to wait")
    parser.set_defaults(func=Lazy("imgedge.cache.commands:run_purge", extra="server"))


def run_purge(args: argparse.Namespace) -> int:
    import httpx  # the server extra; imported here so that registering this subcommand needs nothing

    data_dir = args.data_dir or Path(C.DATA_DIR.read())
    token = setting_or_file(C.ADMIN_TOKEN, data_dir, "admin.token")
    if (args.asset_id is None) == (args.source is None):
        print("purge: give an asset id or --source URL (one of them)", file=sys.stderr)
        return 2
    proxy_url = args.proxy_url or default_proxy_url()
    try:
        if args.source is not None:
            response = purge_source(proxy_url, token, args.source, args.timeout)
        else:
            response = purge_asset(proxy_url, token, args.asset_id, args.timeout)
    except httpx.HTTPError as exc:
        print(f"purge failed: {exc}", file=sys.stderr)
        return 1
    if response.is_success:
        print(response.text.strip() or f"purged {args.asset_id or args.source}")
        return 0
    print(f"purge failed: HTTP {response.status_code} {response.text.strip()}", file=sys.stderr)
    return 1


def purge_asset(proxy_url: str, token: str, asset_id: str, timeout_s: float = 10.0) -> httpx.Response:
    import httpx

    url = f"{proxy_url.rstrip('/')}/admin/purge/{quote(asset_id, safe='')}"
    return httpx.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)


def purge_source(proxy_url: str, token: str, source_url: str, timeout_s: float = 10.0) -> httpx.Response:
    import httpx

    url = f"{proxy_url.rstrip('/')}/admin/purge-source"
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(url, params={"url": source_url}, headers=headers, timeout=timeout_s)
