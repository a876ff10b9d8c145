"""The smallest Django project that runs django-otp's TOTP verification.

The database is named by PEER_DJANGO_DB (a PostgreSQL database on
127.0.0.1:5432, user postgres, trust auth); scripts/peer creates and drops it.
"""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "peer-bench-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "peerbench",
]
# No session, CSRF or auth middleware: the verify view names its user in the
# body, so the peer does less per request than the mfa side (which reads and
# cycles a server-side session).
MIDDLEWARE = []
ROOT_URLCONF = "peerbench.urls"
WSGI_APPLICATION = "peerbench.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PEER_DJANGO_DB", "peer_django"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        # One persistent connection per worker, as the mfa side keeps a pool.
        "CONN_MAX_AGE": None,
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False}
