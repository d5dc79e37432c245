#!/bin/sh
# Render the Alertmanager template (ops/alertmanager/alertmanager.yml) with values from the environment:
#   render-config.sh TEMPLATE OUTPUT
# Each ${NAME} becomes the variable's value as a double-quoted YAML string (backslashes and quotes
# escaped), so passwords with any characters survive. Without ALERT_WEBHOOK_URL the webhook block is
# left out (Alertmanager refuses an empty URL). POSIX sh and awk only: it runs in the busybox-based
# prom/alertmanager image and in tests/ops/test_compose_config.py.
set -eu
template=$1
output=$2
for required in ALERT_EMAIL_TO ALERT_EMAIL_FROM ALERT_SMTP_SMARTHOST; do
    eval "value=\${$required:-}"
    if [ -z "$value" ]; then
        echo "render-config.sh: set $required in .env" >&2
        exit 1
    fi
done
awk -v with_webhook="${ALERT_WEBHOOK_URL:+yes}" '
    /# webhook-begin/ { skipping = (with_webhook != "yes"); next }
    /# webhook-end/ { skipping = 0; next }
    skipping { next }
    {
        line = $0
        rendered = ""
        while (match(line, /\$\{[A-Z_][A-Z0-9_]*\}/)) {
            name = substr(line, RSTART + 2, RLENGTH - 3)
            value = ENVIRON[name]
            gsub(/\\/, "\\\\", value)
            gsub(/"/, "\\\"", value)
            rendered = rendered substr(line, 1, RSTART - 1) "\"" value "\""
            line = substr(line, RSTART + RLENGTH)
        }
        print rendered line
    }
' "$template" > "$output"
