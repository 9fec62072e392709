from django.urls import path

from species import views

app_name = "species"
urlpatterns = [
    path("", views.species_list, name="list"),
    path("<slug:slug>/", views.species_detail, name="detail"),
    path("<slug:slug>/illustration.svg", views.species_illustration, name="illustration"),
]
