"""ASGI: HTTP to Django, the WebSocket `/ws/live` to Channels (fabrknt/live). In production
gunicorn (WSGI) keeps serving HTTP and an ASGI server (uvicorn) serves /ws/ only; under
`make run`, runserver (daphne's) serves both."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

from fabrknt.live.routing import websocket_application  # noqa: E402
from fabrknt.ops.tracing import tracing_start  # noqa: E402

tracing_start(service="fabrknt-web")  # before the handler loads its middleware
http_application = get_asgi_application()

application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application()})

# Everything loaded so far (Django, the URLconf, the apps: ~250,000 objects) lives as long
# as the process: frozen, the collector's full (generation 2) collections skip it, and cost
# a few milliseconds instead of pausing the event loop (and every WebSocket push) while it
# walks the whole heap.
gc.freeze()
