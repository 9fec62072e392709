from django.urls import path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("photos/", views.about_photos, name="about-photos"),
    path("withdraw/", views.withdraw_feedback, name="withdraw-by-reference"),
    path("<str:identification_id>/", views.give_feedback, name="give"),
    path("<str:identification_id>/withdraw/", views.withdraw_feedback, name="withdraw"),
]
