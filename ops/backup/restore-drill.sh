#!/usr/bin/env bash
# The restore drill on the latest nightly dump: downloads it and its manifest from the backup bucket, then
# `manage.py restore_drill` restores it into a fresh database on the server DATABASE_URL names, checks it
# (migrations, ledger, exclusion constraints and triggers, row counts, the purge journal re-applied) and
# drops it again. Exits non-zero when a check fails (the restored database is then kept for inspection).
#
# Run where the app's code, its settings (the private storage holding the purge journal) and pg_restore of
# the server's major version are, e.g. from a checkout:
#   BACKUP_S3_BUCKET=... BACKUP_S3_ENDPOINT=... DATABASE_URL=postgres://.../kompanion ops/backup/restore-drill.sh
# Extra arguments go to `manage.py restore_drill` (--keep, --target-db NAME, --source-db NAME).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/kompanion-drill.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

dump=$("$python" "$here/s3_objects.py" latest --to "$work" | tail -n 1)
echo "restore drill on $(basename "$dump")"
"$python" "$root/manage.py" restore_drill --dump "$dump" "$@"
