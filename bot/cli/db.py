"""`votebot db copy SQLITE_FILE postgresql://…`: move a SQLite store to PostgreSQL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import asyncpg
from tqdm import tqdm

from store import open_store
from store.copy import CopyError, copy_store, source_tables
from store.db import is_postgres_url


async def copy_command(source: str, target: str) -> int:
    """Copy with a progress bar, then print each table's row counts; 0 when they all match."""
    if not Path(source).is_file():
        print(f"votebot: {source}: no such SQLite file", file=sys.stderr)
        return 2
    if not is_postgres_url(target):
        print("votebot: the target must be a postgresql:// URL", file=sys.stderr)
        return 2
    src = await open_store(source)  # brought up to date first, as the bot would
    try:
        try:
            dst = await open_store(target)
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"votebot: cannot open the target database: {exc}", file=sys.stderr)
            return 1
        try:
            total = sum((await source_tables(src)).values())
            with tqdm(total=total, unit=" rows", file=sys.stderr, dynamic_ncols=True) as bar:

                def progress(table: str, rows: int) -> None:
                    bar.set_description(table)
                    bar.update(rows)

                counts = await copy_store(src, dst, progress)
        except CopyError as exc:
            print(f"votebot: copy failed, nothing written: {exc}", file=sys.stderr)
            return 1
        finally:
            await dst.close()
    finally:
        await src.close()
    width = max(len(c.table) for c in counts)
    print(f"{'table':<{width}}  {'sqlite':>9}  {'postgresql':>10}")
    for c in counts:
        mark = "ok" if c.source == c.target else "MISMATCH"
        print(f"{c.table:<{width}}  {c.source:>9}  {c.target:>10}  {mark}")
    print(f"copied {sum(c.target for c in counts)} rows in {len(counts)} tables")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `db copy`."""
    db = sub.add_parser("db", help="copy a SQLite database to PostgreSQL (db copy FILE URL)")
    db.add_argument("action", choices=["copy"])
    db.add_argument("source", help="the SQLite file")
    db.add_argument("target", help="postgresql://user@host/database (empty, to be filled)")
