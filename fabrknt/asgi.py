import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
django.setup(set_prefix=False)

from django.core.asgi import get_asgi_application  # noqa: E402

from fabrknt.ops.tracing import tracing_start  # noqa: E402

tracing_start(service="fabrknt-web")  # before the handler loads its middleware
application = get_asgi_application()
