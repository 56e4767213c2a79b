from django.urls import path  # noqa: F401  (the TRACE API modules add their routes below)

urlpatterns: list = []
