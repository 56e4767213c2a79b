"""ASGI: HTTP to Django, the WebSocket `/ws/live` to Channels (fabrknt/live). In production
gunicorn (WSGI) keeps serving HTTP and an ASGI server (uvicorn) serves /ws/ only; under
`make run`, runserver (daphne's) serves both."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
http_application = get_asgi_application()  # sets Django up before the imports below

from channels.routing import ProtocolTypeRouter  # noqa: E402

from fabrknt.live.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application()})
