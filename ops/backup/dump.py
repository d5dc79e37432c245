#!/usr/bin/env python3
"""A logical dump (pg_dump -Fc) with its manifest: the row count of every table, counted in the very
snapshot the dump reads, so the restore drill can compare counts exactly even while the site is writing.

    python3 ops/backup/dump.py --database-url postgres://user:pass@host:5432/kompanion --output /backups/x.dump

(without --database-url and DATABASE_URL: libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) writes
x.dump and x.dump.manifest.json ({"tables": {"accounts_user": 12, ...}, ...}). Needs pg_dump on the PATH (or
PG_DUMP) and psycopg 3; no Django, so it runs in the backup image (ops/postgres/Dockerfile) as well
as in a checkout. Exits non-zero on any failure and then leaves no half-written file behind.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""


def libpq_environment(database_url: str) -> tuple[dict[str, str], str]:
    """PG* variables for the client programs (the password never on a command line) and the database name."""
    if not database_url:
        database = os.environ.get("PGDATABASE", "")
        if not database:
            raise SystemExit("give --database-url, or set DATABASE_URL or PGDATABASE (and PGHOST...)")
        return dict(os.environ), database
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
        raise SystemExit(f"not a PostgreSQL URL: scheme {parts.scheme!r}")
    environment = dict(os.environ)
    if parts.hostname:
        environment["PGHOST"] = unquote(parts.hostname)
    if parts.port:
        environment["PGPORT"] = str(parts.port)
    if parts.username:
        environment["PGUSER"] = unquote(parts.username)
    if parts.password:
        environment["PGPASSWORD"] = unquote(parts.password)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise SystemExit("the database URL names no database")
    environment["PGDATABASE"] = database
    return environment, database


def table_counts(cursor) -> dict[str, int]:
    cursor.execute(TABLES)
    names = [row[0] for row in cursor.fetchall()]
    counts = {}
    for name in names:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        counts[name] = cursor.fetchone()[0]
    return counts


def dump(database_url: str, output: Path) -> dict:
    environment, database = libpq_environment(database_url)
    pg_dump = os.environ.get("PG_DUMP", "pg_dump")
    manifest_path = output.with_name(output.name + ".manifest.json")
    partial = output.with_name(output.name + ".partial")
    # One REPEATABLE READ transaction exports its snapshot; pg_dump --snapshot reads exactly that state, and
    # the counts below are taken in it too. The transaction stays open until pg_dump has finished.
    with psycopg.connect(database_url or "", autocommit=False) as connection:
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            started = datetime.now(UTC)
            subprocess.run(  # noqa: S603 (fixed program, arguments from our own options)
                [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={partial}"],
                env=environment,
                check=True,
            )
            counts = table_counts(cursor)
        connection.rollback()
    client_version = subprocess.run(  # noqa: S603
        [pg_dump, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    manifest = {
        "database": database,
        "dump": output.name,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "server_version": server_version,
        "pg_dump": client_version,
        "tables": counts,
    }
    partial.replace(output)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", ""), help="default: $DATABASE_URL, else PG* variables"
    )
    parser.add_argument("--output", required=True, type=Path, help="the dump file (custom format)")
    options = parser.parse_args(argv)
    partial = options.output.with_name(options.output.name + ".partial")
    try:
        manifest = dump(options.database_url, options.output)
    except (subprocess.CalledProcessError, psycopg.Error, OSError) as error:
        partial.unlink(missing_ok=True)
        print(f"dump failed: {error}", file=sys.stderr)
        return 1
    rows = sum(manifest["tables"].values())
    print(f"{options.output}: {len(manifest['tables'])} tables, {rows} rows ({manifest['pg_dump']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
