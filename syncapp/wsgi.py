"""WSGI entry point for gunicorn and the development server."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncapp.settings")
try:
    application = get_wsgi_application()
except ImproperlyConfigured as error:  # a bad variable: its one line says what to fix, as in manage.py
    sys.exit(f"Configuration error: {error}")
