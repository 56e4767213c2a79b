import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrknt.settings")
django.setup(set_prefix=False)

from fabrknt.handlers import Application  # noqa: E402  (needs the apps loaded)

application = Application()
