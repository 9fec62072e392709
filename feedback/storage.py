"""The local private storage of kept photos: a folder with no URL at all."""
from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that refuses to make URLs: its files are served to staff only, through
    the admin's photo view, never by a static or media route."""

    def __init__(self, location=None, **kwargs):
        kwargs.pop("base_url", None)
        super().__init__(location=location, base_url=None, **kwargs)

    def url(self, name):
        raise ValueError("feedback photos have no public URL; staff see them in the admin")
