from django.conf import settings


def site(request):
    """Values every page template uses."""
    return {"app_version": settings.APP_VERSION}
