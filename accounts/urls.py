from __future__ import annotations

from django.urls import include, path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signin", views.signin, name="signin"),
    path("signout", views.signout, name="signout"),
    path("account/", include("accounts.pages.profile_urls")),
]
