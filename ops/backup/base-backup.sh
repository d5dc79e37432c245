#!/usr/bin/env bash
# A pgBackRest base backup of the `kompanion` stanza (ops/backup/pgbackrest.conf), where the data directory
# is: inside the postgres container.
#
#   base-backup.sh [auto|full|diff]     auto (the default): full on Sunday (UTC), differential otherwise
#
# Schedule (the host's crontab; times in UTC, 19:30 UTC is 02:30 WIB, after the nightly dump):
#   30 19 * * *  cd /srv/kompanion && docker compose exec -T postgres /usr/local/bin/base-backup.sh auto
# So: a full backup every week, a differential (everything changed since that full) every other night, WAL
# archived continuously in between (archive_command); 4 fulls are kept (pgbackrest.conf), four weeks of
# point-in-time recovery. The first run creates the stanza (idempotent afterwards) and a differential
# backup without a full one becomes a full one. `pgbackrest check` first proves WAL archiving works: a backup
# whose WAL cannot be archived could never be restored. Exits non-zero on any failure.
set -euo pipefail

# pgBackRest must run as the owner of the data directory.
if [ "$(id -u)" = 0 ]; then
    exec gosu postgres "$0" "$@"
fi

stanza=${PGBACKREST_STANZA:-kompanion}
# The official image's superuser is POSTGRES_USER (there is no "postgres" role unless it is that).
export PGBACKREST_PG1_USER="${PGBACKREST_PG1_USER:-${POSTGRES_USER:-postgres}}"
kind=${1:-auto}
if [ "$kind" = auto ]; then
    if [ "$(date -u +%u)" = "${BACKUP_FULL_WEEKDAY:-7}" ]; then kind=full; else kind=diff; fi
fi
case "$kind" in
    full | diff) ;;
    *) echo "usage: $0 [auto|full|diff]" >&2; exit 2 ;;
esac

log() { printf '%s base-backup: %s\n' "$(date -u +%FT%TZ)" "$*"; }

log "stanza $stanza: create (if new) and check that WAL archiving works"
pgbackrest --stanza="$stanza" stanza-create
pgbackrest --stanza="$stanza" check
log "$kind backup"
# Expiry by the retention in pgbackrest.conf runs at the end of every backup.
pgbackrest --stanza="$stanza" --type="$kind" backup
pgbackrest --stanza="$stanza" info
log "done"
