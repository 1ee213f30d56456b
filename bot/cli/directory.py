"""`votebot directory list|import`: the contact directory."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `directory`."""
    directory = sub.add_parser("directory", help="the contact directory: list, import a CSV")
    directory.add_argument("action", choices=["list", "import"])
    directory.add_argument("file", nargs="?", help="CSV: category, departement, address")


async def run(services: Services, args: argparse.Namespace) -> int:
    """Replace the directory from a CSV (all or nothing), then print it."""
    from pathlib import Path

    from bot.directory import DirectoryImportError, parse_directory_csv

    if args.action == "import":
        if not args.file:
            print("votebot directory import FILE", file=sys.stderr)
            return 2
        try:
            entries = parse_directory_csv(Path(args.file).read_bytes(), services.election)
        except (OSError, DirectoryImportError) as exc:
            print(f"votebot: directory not imported, nothing changed:\n{exc}", file=sys.stderr)
            return 1
        count = await services.store.directory_replace(entries)
        print(f"directory replaced: {count} addresses (a running bot reloads it within a minute)")
    for entry in await services.store.directory_list():
        print(f"{entry.category}\t{entry.departement or '-'}\t{entry.address}")
    return 0
