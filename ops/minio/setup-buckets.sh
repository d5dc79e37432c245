#!/bin/sh
# Creates Kompanion's buckets on MinIO with their settings (docker-compose.yml service `minio-setup`,
# image minio/mc). Every step is idempotent, so it runs again on every `docker compose up`.
#
#   media (public photos) and private (KTP, selfies): versioning on, so an overwritten or deleted
#     object can be brought back; ops/minio/media-lifecycle.json expires those old versions after 30
#     days (and cleans up lone delete markers), so deleted photos and ID images are really gone then.
#   backups: pgBackRest's repository and the nightly dumps. pgBackRest expires its own backups
#     (repo1-retention-full), so no versioning or lifecycle here.
#
# Production uses AWS S3 with the same settings: docs/operations-edge-monitoring.md has the commands.
set -eu
mc alias set kompanion https://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
for bucket in "$MEDIA_BUCKET" "$PRIVATE_BUCKET"; do
    mc mb --ignore-existing "kompanion/$bucket"
    mc version enable "kompanion/$bucket"
    # import replaces the bucket's whole lifecycle configuration: running it twice adds nothing.
    mc ilm import "kompanion/$bucket" < /opt/kompanion/minio/media-lifecycle.json
done
mc mb --ignore-existing "kompanion/$BACKUP_BUCKET"
echo "buckets ready: $MEDIA_BUCKET, $PRIVATE_BUCKET (versioned, 30-day noncurrent expiry), $BACKUP_BUCKET"
