#!/usr/bin/env python3
"""Kindly: parse the command line, set up paths and logging, then start the app or a command.

python main.py                  the desktop app on your data
python main.py --demo           the desktop app on the demo organisation (its own database)
python main.py --data-dir DIR   use DIR instead of the per-user data directory
python main.py --self-test      check this installation (offscreen) and exit
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # argparse is imported only for a command or an unusual command line
    import argparse

# The commands, with the one-line help ``--help`` lists. Their modules (network clients, the
# keyring, triage: ~200 ms of imports) are imported only when a command is on the command line,
# so starting the desktop app does not pay for them.
COMMANDS = {
    "accounts": "connect, list and remove network accounts",
    "sync": "fetch new mentions and send queued replies, then exit",
    "report": "write the board report (PDF) for a month",
}


# The desktop app's own options, read without argparse when they are all there is
# (``quick_gui_args``): argparse and what it imports cost ~5–10 ms before the window shows.
GUI_FLAGS = {
    "--demo": "demo",
    "--exit-after-paint": "exit_after_paint",
    "--no-welcome": "no_welcome",
    "--verbose": "verbose",
}
GUI_VALUES = {"--data-dir": "data_dir", "--screenshot": "screenshot"}


def quick_gui_args(argv: list[str]) -> SimpleNamespace | None:
    """The desktop app's command line as ``parse_args`` would give it, or None for anything
    else (a command, --self-test, --help, an abbreviation, an error): argparse reads those."""
    values: dict[str, object] = {"command": None, "self_test": False, "allow_no_keyring": False}
    values.update(dict.fromkeys(GUI_FLAGS.values(), False))
    values.update(dict.fromkeys(GUI_VALUES.values()))
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if arg in GUI_FLAGS:
            values[GUI_FLAGS[arg]] = True
        elif name in GUI_VALUES and (eq or rest):
            value = value if eq else rest.pop(0)
            if not value or (not eq and value.startswith("-")):
                return None  # argparse explains what is missing
            values[GUI_VALUES[name]] = Path(value) if name == "--screenshot" else value
        else:
            return None
    return SimpleNamespace(**values)


def build_parser(*, with_commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``with_commands=False`` names the commands without loading them."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="kindly",
        description="Kindly: a calm inbox for your organisation's social-media mentions.",
    )
    parser.add_argument(
        "--data-dir",
        help="where Kindly keeps its data (default: $KINDLY_DATA_DIR or the per-user data folder)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the demo organisation (kept apart from your data)"
    )
    parser.add_argument(
        "--exit-after-paint",
        action="store_true",
        help="quit once the main window has painted (for start-up timing)",
    )
    parser.add_argument("--screenshot", type=Path, help="save a picture of the window and quit")
    parser.add_argument("--no-welcome", action="store_true", help="skip the first-run welcome")
    parser.add_argument("--verbose", action="store_true", help="log debugging detail")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation offscreen (keyring, database, window) and exit: "
        "0 passed, 1 failed, 3 no usable keyring",
    )
    parser.add_argument(
        "--allow-no-keyring",
        action="store_true",
        help="with --self-test: a computer without a keyring passes (for CI)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    if not with_commands:
        for name, summary in COMMANDS.items():
            commands.add_parser(name, help=summary, add_help=False)
        return parser
    from app.core import cli_accounts, cli_sync
    from app.ui import cli_report

    cli_accounts.register(commands)
    cli_sync.register(commands)
    cli_report.register(commands)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace | SimpleNamespace:
    """The desktop app's usual options are read directly (``quick_gui_args``); otherwise
    parse with the commands' names only; a command (or anything unexpected) is parsed
    again by the full parser, which loads the command modules and reports errors."""
    quick = quick_gui_args(sys.argv[1:] if argv is None else argv)
    if quick is not None:
        return quick
    args, rest = build_parser(with_commands=False).parse_known_args(argv)
    if args.command is None and not rest:
        return args  # the desktop app: no command module imported
    return build_parser().parse_args(argv)


def log_path(folder: Path) -> Path:
    """Where ``app.core.logs.setup_logging`` writes (known before it runs)."""
    from app.core.paths import logs_dir

    return logs_dir(folder) / "kindly.log"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    from app.core.paths import data_dir

    folder = data_dir(args.data_dir)

    def start_logging() -> Path:
        import logging

        from app.core.logs import setup_logging

        level = logging.DEBUG if args.verbose else logging.INFO
        return setup_logging(folder, level, to_stderr=args.verbose)

    if args.command is None and not args.self_test:
        from app.ui.app import LaunchOptions, run_gui

        # Logging starts once the window has painted (logging.handlers: ~9 ms of imports).
        return run_gui(
            LaunchOptions(
                folder,
                log_path(folder),
                demo=args.demo,
                exit_after_paint=args.exit_after_paint,
                screenshot=args.screenshot,
                no_welcome=args.no_welcome,
                start_logging=start_logging,
            )
        )
    log_file = start_logging()
    if args.self_test:
        from app.ui.self_test import run_self_test

        return run_self_test(log_file, allow_no_keyring=args.allow_no_keyring)
    from app.core.demo import open_demo_database
    from app.core.paths import database_path
    from app.storage.db import close_database, open_database
    from app.storage.errors import StorageError

    try:
        if args.demo:
            open_demo_database(folder)
        else:
            open_database(database_path(folder))
    except StorageError as error:
        print(f"kindly: {error.user_message}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args))
    finally:
        close_database()


if __name__ == "__main__":
    if getattr(sys, "frozen", False):  # from source, multiprocessing needs no help (and costs
        import multiprocessing  # ~10 ms of imports before the window)

        multiprocessing.freeze_support()  # first: a frozen sync worker process starts here
    sys.exit(main())
