from django.urls import path

from naive.views import ClickCreate, ClickList

urlpatterns = [
    path("clicks", ClickList.as_view()),
    path("clicks/new", ClickCreate.as_view()),
]
