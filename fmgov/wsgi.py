"""WSGI entry point (gunicorn fmgov.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fmgov.settings.development")
application = get_wsgi_application()
