#!/bin/sh
# Generates every secret the compose stack reads, once, into docker/secrets/ (git-ignored).
# Existing files are kept, so running it again never rotates a key by accident.
#
#   sh docker/init-secrets.sh [DIR]      # DIR defaults to docker/secrets next to this script
#
# TLS: put the city's certificate chain and key in DIR/tls_certificate.pem and
# DIR/tls_private_key.pem. When they are missing a self-signed pair for trials is made and a
# warning printed; never serve residents with it.
set -eu
umask 077
dir=${1:-"$(dirname "$0")/secrets"}
mkdir -p "$dir"
chmod 0700 "$dir"

made=""
new() { # new NAME COMMAND… : writes the command's output to DIR/NAME unless it exists
  name=$1
  shift
  if [ -s "$dir/$name" ]; then return 0; fi
  "$@" >"$dir/$name.tmp"
  mv "$dir/$name.tmp" "$dir/$name"
  made="$made $name"
}
hex() { openssl rand -hex "$1"; }

new postgres_password hex 24
new analytics_ro_password hex 24
new mongo_password hex 24
new master_key openssl rand -base64 32
new backup_key openssl rand -base64 32
new audit_signing_key openssl genpkey -algorithm ed25519
new superset_secret_key openssl rand -base64 42
new superset_db_password hex 24
new superset_admin_password hex 12
new superset_guest_token_secret hex 32

if [ ! -s "$dir/tls_certificate.pem" ] || [ ! -s "$dir/tls_private_key.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=${TLS_TRIAL_HOSTNAME:-localhost}" \
    -keyout "$dir/tls_private_key.pem" -out "$dir/tls_certificate.pem" 2>/dev/null
  made="$made tls_certificate.pem tls_private_key.pem"
  echo "WARNING: self-signed TLS certificate for trials only; replace $dir/tls_*.pem with the city's" >&2
fi

# The containers run as their own users (tsunagu, postgres, nginx, superset, mongodb, nobody) and
# read the files through bind mounts; the directory itself stays private to this account.
chmod 0644 "$dir"/*
echo "secrets in $dir:${made:- (all existed, nothing changed)}"
echo "Keep a copy of master_key, audit_signing_key and backup_key outside this host: without them"
echo "personal data and encrypted backups cannot be read."
