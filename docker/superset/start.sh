#!/bin/sh
# Prepares Superset's metadata database and the admin account, then starts the web server.
set -eu
superset db upgrade
# Creates the admin account on the first start; later starts keep the existing one.
superset fab create-admin \
  --username "${SUPERSET_ADMIN_USERNAME:-admin}" \
  --firstname Superset --lastname Admin \
  --email "${SUPERSET_ADMIN_EMAIL:-admin@localhost}" \
  --password "$(cat /run/secrets/superset_admin_password)" || echo "superset: admin account kept"
superset init
exec /usr/bin/run-server.sh
