"""Fixtures shared by every app's tests (pytest-django)."""
from __future__ import annotations

import io
import itertools

import pytest

from testsupport.editors import STAFF_PASSWORD, STAFF_USERNAME

# Fixtures shared across packages live in plugins, never imported into test modules.
pytest_plugins = [
    "testsupport.components",  # a missing PostgreSQL, Redis...: fail (CATSITE_ALLOW_SKIP=1: skip)
    "testsupport.azurite",  # azurite, private_azurite, azurite_oauth
    "testsupport.web_fixtures",  # model_package_dir, installed_model, no_model
    "testsupport.mlflow_server",  # mlflow_server(_postgres), mlflow_servers, private_...
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as a deployment has it: migrated, then `load_species` run (migration
    0002 loads only its frozen snapshot of the first content)."""
    from species import content

    with django_db_blocker.unblock():
        content.load()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads made by a test land in its own temp folder, never in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def feedback_photo_dir(settings, tmp_path):
    """Photos shared with feedback land in the test's own private folder, never in var/."""
    settings.STORAGES = {**settings.STORAGES, "feedback": {
        "BACKEND": "feedback.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "feedback-photos")},
    }}
    return tmp_path / "feedback-photos"


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with empty caches (pages, counters): a page cached from an earlier
    test's rows (rolled back since) must not be served to the next one."""
    from django.core.cache import caches

    from core.shared_cache import forget_state

    forget_state()
    for alias in caches:
        caches[alias].clear()


@pytest.fixture
def staff_user(django_user_model):
    """A staff member with every permission, as the site's editors are."""
    return django_user_model.objects.create_superuser(
        username=STAFF_USERNAME, email="editor@example.com", password=STAFF_PASSWORD
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


_unique = itertools.count(1)


@pytest.fixture
def make_species(db):
    """Create a valid Species (a wild one unless told otherwise); keyword arguments override."""
    from species.models import Species

    def make(**fields):
        n = next(_unique)
        kind = fields.get("kind", Species.Kind.WILD)
        values = {
            "common_name": f"Test cat {n}",
            "slug": f"test-cat-{n}",
            "scientific_name": f"Testfelis example{n}",
            "kind": kind,
            "subfamily": "Felinae",
            "genus": "Testfelis",
            "summary": "A cat made up for a test.",
            "description": "First paragraph.\n\nSecond paragraph.\n\nThird paragraph.",
            "native_range": "The test suite",
            "weight_min_kg": "2.0",
            "weight_max_kg": "4.5",
            "length_min_cm": 40,
            "length_max_cm": 60,
            "lifespan_min_years": 10,
            "lifespan_max_years": 15,
            "conservation_status": "LC" if kind == Species.Kind.WILD else "",
        }
        values.update(fields)
        species = Species(**values)
        species.full_clean()
        species.save()
        return species

    return make


def png_bytes(size=(32, 24), colour=(200, 120, 40)) -> bytes:
    """A small real PNG made with Pillow (no photo can be downloaded here)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def png_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    def make(name="photo.png", **kwargs):
        return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")

    return make
