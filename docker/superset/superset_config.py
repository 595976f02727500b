"""Superset configuration for a Tsunagu deployment.

Secrets come from docker secrets under /run/secrets; nothing secret is in this file or the image.
"""
import os
from urllib.parse import quote


def _secret(name: str) -> str:
    with open(f"/run/secrets/{name}", encoding="utf-8") as f:
        return f.read().strip()


SECRET_KEY = _secret("superset_secret_key")

# Superset's own metadata database (users, charts, dashboards): the superset-db service.
SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://superset:{}@superset-db:5432/superset".format(
    quote(_secret("superset_db_password"), safe="")
)

# Behind the TLS proxy: trust its X-Forwarded-* headers.
ENABLE_PROXY_FIX = True

# Dashboards embedded in Tsunagu's pages through guest tokens (see dashboards/ in Tsunagu).
FEATURE_FLAGS = {"EMBEDDED_SUPERSET": True}
GUEST_ROLE_NAME = "TsunaguGuest"  # a read-only role on the analytics datasets (README)
GUEST_TOKEN_JWT_SECRET = _secret("superset_guest_token_secret")
GUEST_TOKEN_JWT_AUDIENCE = os.environ.get("SUPERSET_GUEST_TOKEN_AUDIENCE", "tsunagu")

# Japanese first.
BABEL_DEFAULT_LOCALE = "ja"
LANGUAGES = {"ja": {"flag": "jp", "name": "Japanese"}, "en": {"flag": "us", "name": "English"}}
