#!/bin/sh
# Runs in the nginx container before nginx starts (the official image runs /docker-entrypoint.d/*.sh,
# after 20-envsubst-on-templates.sh has rendered ops/nginx/kompanion.conf.template).
#
# 1. Before the first certificate exists, nginx could not start with the HTTPS server in its
#    configuration: the server between "tls-begin" and "tls-end" is dropped, and port 80 alone serves
#    the ACME challenge for `certbot certonly --webroot`. Restart nginx after the first issuance.
# 2. certbot renews certificates in its own container; nginx reloads every 6 hours in the background to
#    pick them up (a certificate is valid for 90 days and renewed 30 days before it expires).
# 3. The image's default site is removed: ours is the only one.
set -eu
if [ -z "${KOMPANION_NGINX_CONF:-}" ]; then
    rm -f /etc/nginx/conf.d/default.conf
fi
conf=${KOMPANION_NGINX_CONF:-/etc/nginx/conf.d/kompanion.conf}
live=${KOMPANION_LETSENCRYPT_LIVE:-/etc/letsencrypt/live}

if [ ! -s "$live/${SERVER_NAME}/fullchain.pem" ] || [ ! -s "$live/${SERVER_NAME}/privkey.pem" ]; then
    echo "$0: no certificate for ${SERVER_NAME} yet: serving HTTP only (ACME challenge)." >&2
    echo "$0: issue one (docs/operations-edge-monitoring.md), then: docker compose restart nginx" >&2
    sed -i '/# tls-begin/,/# tls-end/d' "$conf"
fi

if [ "${KOMPANION_NGINX_RELOAD_LOOP:-yes}" = "yes" ]; then
    (while sleep 6h; do nginx -s reload; done) &
fi
