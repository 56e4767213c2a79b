import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
django.setup(set_prefix=False)

from fabrknt.handlers import Application  # noqa: E402  (needs the apps loaded)
from fabrknt.ops.tracing import tracing_start  # noqa: E402

# Before the handlers load their middleware (the Django instrumentation adds its own).
# Under gunicorn each worker starts its exporter after the fork (deploy/gunicorn.conf.py).
tracing_start(service="fabrknt-web", export="gunicorn" not in sys.modules)

application = Application()
