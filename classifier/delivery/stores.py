"""Choosing the model store from settings: an Azure Blob Storage container or a local folder.

The stores build on store.py (the Store base class, its keys and helpers); this module is the
only one that knows them all, so they never import each other.
"""
from pathlib import Path

from classifier.delivery.errors import StoreNotConfigured
from classifier.delivery.local_store import LocalDirectoryStore
from classifier.delivery.store import Store


def store_from_settings(settings, *, credential=None, client_options=None) -> Store:
    """The store that settings.MODEL_STORE names.

    ``credential`` replaces DefaultAzureCredential (tests inject one; Azure AD cannot be reached
    offline). ``client_options`` go to the Azure client as they are (e.g. chunk sizes, TLS
    verification for an emulator with a self-signed certificate).
    """
    kind = (getattr(settings, "MODEL_STORE", "") or "").strip()
    prefix = getattr(settings, "MODEL_STORE_PREFIX", "") or ""
    if not kind:
        raise StoreNotConfigured(
            "no model store is configured: set MODEL_STORE to 'azure' (with AZURE_STORAGE_* "
            "credentials) or to a local directory, e.g. MODEL_STORE=var/model-store"
        )
    if kind.lower() == "azure":
        # Imported when chosen: the Azure SDK is large, and a local store does not need it.
        from classifier.delivery.azure_store import AzureBlobStore

        return AzureBlobStore.from_settings(
            settings, credential=credential, client_options=client_options
        )
    path = Path(kind.removeprefix("file://"))
    if not path.is_absolute():
        path = Path(getattr(settings, "BASE_DIR", Path.cwd())) / path
    return LocalDirectoryStore(path, prefix=prefix)
