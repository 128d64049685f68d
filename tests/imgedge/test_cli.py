"""The `imgedge` command as a user meets it: help that gives every option's default, --version, and
progress on stderr only when stderr is a terminal."""

from __future__ import annotations

import argparse
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from imgedge.cli import VersionAction, build_parser, version_text
from imgedge.progress import Progress
from tests.conftest import photo

SILENT_ACTIONS = (argparse._HelpAction, argparse._StoreTrueAction, VersionAction)


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_option_of_every_subcommand_says_what_it_does_and_its_default() -> None:
    parser = build_parser()
    commands = subparsers(parser)
    assert {"serve", "url", "settings", "generate", "ingest", "worker", "purge"} <= set(commands)
    for name, sub in commands.items():
        formatter = sub._get_formatter()
        for action in sub._actions:
            if isinstance(action, SILENT_ACTIONS) or (not action.option_strings and action.help):
                continue
            assert action.help, f"imgedge {name} {action.dest} has no help"
            shown = formatter._get_help_string(action) % {**vars(action), "prog": name}
            assert "default" in shown, f"imgedge {name} {'/'.join(action.option_strings)}: {shown!r}"
    assert "(default:" in commands["serve"].format_help()


def test_version_is_printed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "imgedge.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("imgedge ")
    assert done.stdout.strip() == version_text()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with Progress("ingesting", 3, stream=stream) as progress:
            progress.update(1, "a.png")
            progress.update(2, "b.png")
    assert "\ringesting 2/3" in terminal.getvalue() and "b.png" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r")  # the line is cleared when done
    assert pipe.getvalue() == ""


def test_ingest_shows_progress_on_a_terminal_and_ids_on_stdout(tmp_path: Path) -> None:
    files = []
    for i in range(3):
        path = tmp_path / f"photo{i}.png"
        path.write_bytes(photo("coffee", 32 + i).write_to_buffer(".png"))
        files.append(str(path))
    main, terminal = pty.openpty()
    env = {**os.environ, "IMGEDGE_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "imgedge.cli", "ingest", *files],
        stdout=subprocess.PIPE, stderr=terminal, env=env, text=True,
    )  # fmt: skip
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        drawn += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(main)
    assert process.returncode == 0
    assert len(stdout.split()) == 3 and all(len(line) == 32 for line in stdout.split())
    assert b"ingesting 2/3" in drawn and b"photo2.png" in drawn


@pytest.mark.parametrize("argv", [["url", "--help"], ["generate", "--help"], ["worker", "--help"]])
def test_help_runs(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 0 and "default" in capsys.readouterr().out
