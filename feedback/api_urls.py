from django.urls import path

from feedback.api import FeedbackView

urlpatterns = [
    path("identifications/<str:identification_id>/feedback/", FeedbackView.as_view(),
         name="identification-feedback"),
]
