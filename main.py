#!/usr/bin/env python3
"""Kindly: parse the command line, set up paths and logging, then start the app or a command.

python main.py                  the desktop app on your data
python main.py --demo           the desktop app on the demo organisation (its own database)
python main.py --data-dir DIR   use DIR instead of the per-user data directory
python main.py --self-test      check this installation (offscreen) and exit
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
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
    from app.core import cli_accounts, cli_sync
    from app.ui import cli_report

    cli_accounts.register(commands)
    cli_sync.register(commands)
    cli_report.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    import logging

    from app.core.logs import setup_logging
    from app.core.paths import data_dir

    folder = data_dir(args.data_dir)
    log_file = setup_logging(
        folder, logging.DEBUG if args.verbose else logging.INFO, to_stderr=args.verbose
    )
    if args.self_test:
        from app.ui.self_test import run_self_test

        return run_self_test(log_file, allow_no_keyring=args.allow_no_keyring)
    if args.command is None:
        from app.ui.app import LaunchOptions, run_gui

        return run_gui(
            LaunchOptions(
                folder,
                log_file,
                demo=args.demo,
                exit_after_paint=args.exit_after_paint,
                screenshot=args.screenshot,
                no_welcome=args.no_welcome,
            )
        )
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
    sys.exit(main())
