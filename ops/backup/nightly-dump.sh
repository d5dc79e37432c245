#!/usr/bin/env bash
# The nightly logical dump: pg_dump -Fc of the app database with its manifest of row counts (taken in the
# dump's own snapshot, for the restore drill), uploaded to the backup bucket under a dated name, dumps older
# than BACKUP_KEEP_DAYS deleted there (the newest is always kept). Exits non-zero on any failure.
#
# Runs in the backup image (ops/postgres/Dockerfile: pg_dump of the server's major version, python3 with
# psycopg and boto3); docker-compose.yml's `backup` service runs it every night at 02:00 WIB.
#   libpq: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE (or DATABASE_URL)
#   bucket: BACKUP_S3_BUCKET, BACKUP_S3_ENDPOINT, BACKUP_S3_ACCESS_KEY, BACKUP_S3_SECRET_KEY, BACKUP_S3_CA_FILE
#           (ops/backup/s3_objects.py lists them all)
#   BACKUP_KEEP_DAYS (default 14), BACKUP_DIR (local staging, default /var/backups/kompanion; the last 2 kept)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
keep_days=${BACKUP_KEEP_DAYS:-14}
directory=${BACKUP_DIR:-/var/backups/kompanion}
: "${BACKUP_S3_BUCKET:?set BACKUP_S3_BUCKET}"
database=${PGDATABASE:-kompanion}
name="$database-$(date -u +%Y-%m-%dT%H%M%SZ).dump"

log() { printf '%s nightly-dump: %s\n' "$(date -u +%FT%TZ)" "$*"; }

mkdir -p "$directory"
log "dumping $database to $directory/$name"
python3 "$here/dump.py" --output "$directory/$name"
log "uploading to the bucket $BACKUP_S3_BUCKET"
python3 "$here/s3_objects.py" upload "$directory/$name" "$directory/$name.manifest.json"
python3 "$here/s3_objects.py" prune --keep-days "$keep_days"

# Local copies are only a staging area: the two newest stay (a quick restore without downloading).
find "$directory" -maxdepth 1 -name '*.dump' -printf '%T@ %p\n' | sort -rn | tail -n +3 | cut -d' ' -f2- |
    while IFS= read -r old; do
        rm -f -- "$old" "$old.manifest.json"
    done
log "done: s3://$BACKUP_S3_BUCKET/${BACKUP_S3_PREFIX:-dumps/}$name"
