from django.urls import path

from classifier.api import ClassifyView

urlpatterns = [
    path("classify/", ClassifyView.as_view(), name="classify"),
]
