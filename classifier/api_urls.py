from django.urls import path

from classifier.api import ClassifyView
from classifier.model_card_views import ModelCardView

urlpatterns = [
    path("classify/", ClassifyView.as_view(), name="classify"),
    path("model/", ModelCardView.as_view(), name="model"),
]
