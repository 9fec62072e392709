from django.urls import path

from classifier import views

app_name = "classifier"
urlpatterns = [
    path("", views.identify, name="identify"),
]
