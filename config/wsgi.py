import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_wsgi_application()

# WeasyPrint looks for Pango, HarfBuzz and fontconfig when it is imported, through cffi and
# ctypes.util.find_library, which runs ldconfig and gcc (about fifty short subprocesses, ~0.3 s). Done
# here, once as a web process starts, so that no request that renders a PDF ever starts a process.
import weasyprint  # noqa: E402,F401
