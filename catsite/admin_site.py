"""The admin site (catsite.apps.AdminConfig makes it django.contrib.admin's default site).

Its one change to Django's: the index and the navigation call Django's auth groups "Login
groups", so that editors tell them from the encyclopedia's "Taxonomic groups". A renamed entry
rather than a proxy model of Group: a proxy would list the groups under another app than the
users, and need permissions and a migration of its own.
"""
from django.contrib import admin
from django.contrib.auth.models import Group

LOGIN_GROUPS = "Login groups"


class CatsiteAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        # Django documents get_app_list as the place to change the index's entries.
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            for model in app["models"]:
                if model["model"] is Group:
                    model["name"] = LOGIN_GROUPS
        return app_list
