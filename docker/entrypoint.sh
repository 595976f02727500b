#!/bin/sh
# Tsunagu container entry point.
#
# Docker secrets arrive as files under /run/secrets. For each secret setting below, NAME_FILE=path
# makes NAME the file's content (trailing newlines removed), so keys never appear in the compose
# file, in `docker inspect` or in the process list. Only these names are read this way: other
# *_FILE settings (JPKI_TRUST_ANCHORS_FILE) are paths Tsunagu itself opens.
set -eu

for name in DATABASE_URL PGPASSWORD MASTER_KEY AUDIT_SIGNING_KEY BACKUP_KEY; do
  eval "file=\${${name}_FILE:-}"
  [ -n "$file" ] || continue
  eval "current=\${${name}:-}"
  if [ -n "$current" ]; then
    echo "entrypoint: both ${name} and ${name}_FILE are set; set only one" >&2
    exit 64
  fi
  if [ ! -r "$file" ]; then
    echo "entrypoint: ${name}_FILE=${file} is not a readable file" >&2
    exit 66
  fi
  value=$(cat "$file")
  if [ -z "$value" ]; then
    echo "entrypoint: ${name}_FILE=${file} is empty" >&2
    exit 65
  fi
  export "${name}=${value}"
  unset "${name}_FILE"
done

exec "$@"
