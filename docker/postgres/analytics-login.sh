#!/bin/sh
# Lets Apache Superset sign in as the read-only analytics role that the dashboards module creates
# (NOLOGIN) in its migrations. Run once after Tsunagu's first start, and again to change the password:
#   docker compose -f docker/compose.yaml exec postgres sh /docker/analytics-login.sh
set -eu
password=$(cat /run/secrets/analytics_ro_password)
psql -v ON_ERROR_STOP=1 -v password="$password" -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL'
ALTER ROLE tsunagu_analytics_ro LOGIN PASSWORD :'password';
SQL
echo "tsunagu_analytics_ro may now sign in (read-only, schema analytics)"
