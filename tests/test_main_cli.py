"""main.py's command line: the desktop app is parsed without loading the command modules
(they cost ~200 ms of imports: bench/bench_startup.py), and a command still gets its full parser."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main

ROOT = Path(__file__).resolve().parents[1]


def _commands(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {choice.dest: choice.help for choice in action._choices_actions}


def test_starting_the_app_imports_no_command_module() -> None:
    code = (
        "import sys, main\n"
        "args = main.parse_args(['--data-dir', 'd', '--no-welcome', '--exit-after-paint'])\n"
        "assert args.command is None and args.no_welcome and args.data_dir == 'd'\n"
        "print(sorted(m for m in sys.modules if m.startswith(('app.core.cli_', 'app.ui.cli_'))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert run.stdout.strip() == "[]"


def test_the_light_parser_lists_the_same_commands_as_the_full_one() -> None:
    light = _commands(main.build_parser(with_commands=False))
    full = _commands(main.build_parser())

    assert light == full == main.COMMANDS


def test_a_command_is_parsed_by_its_own_parser() -> None:
    args = main.parse_args(["--data-dir", "d", "sync", "--no-send"])

    assert args.command == "sync" and args.no_send and callable(args.run)
    assert main.parse_args(["accounts", "remove", "3"]).account_id == 3


def test_unknown_arguments_are_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main.parse_args(["--no-such-option"])

    assert exited.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--demo"],
        ["--data-dir", "d", "--no-welcome", "--exit-after-paint"],
        ["--data-dir=d e", "--verbose", "--screenshot", "shot.png"],
        ["--screenshot=shot.png", "--data-dir", "one", "--data-dir", "two"],
    ],
)
def test_the_quick_reading_of_the_app_options_agrees_with_argparse(argv: list[str]) -> None:
    quick = main.quick_gui_args(argv)
    full = main.build_parser(with_commands=False).parse_args(argv)

    assert quick is not None and vars(quick) == vars(full)
    assert vars(main.parse_args(argv)) == vars(full)


@pytest.mark.parametrize(
    "argv",
    [
        ["sync"],
        ["--self-test"],
        ["--help"],
        ["--data"],  # an abbreviation argparse would accept
        ["--data-dir"],
        ["--data-dir", "--demo"],
        ["--data-dir="],
        ["--no-such-option"],
    ],
)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert main.quick_gui_args(argv) is None


def test_starting_the_app_imports_neither_argparse_nor_multiprocessing() -> None:
    code = (
        "import sys, main\n"
        "args = main.parse_args(['--data-dir', 'd', '--no-welcome', '--exit-after-paint'])\n"
        "assert args.command is None and args.data_dir == 'd'\n"
        "print(sorted(m for m in ('argparse', 'multiprocessing') if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert run.stdout.strip() == "[]"


def test_the_app_is_given_the_log_file_that_logging_will_write(tmp_path: Path) -> None:
    import logging

    from app.core.logs import setup_logging

    written = setup_logging(tmp_path, to_stderr=False)
    try:
        assert main.log_path(tmp_path) == written
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_kindly", False):
                logging.getLogger().removeHandler(handler)
                handler.close()


def test_the_app_starts_logging_after_its_first_paint(tmp_path: Path) -> None:
    """The window shows without logging.handlers (~9 ms of imports); the log starts before the
    database opens."""
    code = (
        "import sys, main\n"
        "from app.ui import app as gui\n"
        "seen = {}\n"
        "run = gui.run_gui\n"
        "def spy(launch):\n"
        "    seen['before'] = 'logging.handlers' in sys.modules\n"
        "    return run(launch)\n"
        "gui.run_gui = spy\n"
        f"code = main.main(['--data-dir', {str(tmp_path)!r}, '--no-welcome', "
        "'--exit-after-paint'])\n"
        "print(code, seen['before'], 'logging.handlers' in sys.modules)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )

    last = run.stdout.strip().splitlines()[-3:]
    assert last == ["kindly: first paint", "kindly: first page", "0 False True"], run.stderr
    assert (tmp_path / "logs" / "kindly.log").exists()
