"""Choosing the model store from settings: an Azure Blob Storage container, an MLflow model
registry or a local folder.

The stores build on store.py (the Store base class, its keys and helpers); this module is the
only one that knows them all, so they never import each other.
"""
from pathlib import Path

from catmodel.delivery.errors import StoreNotConfigured
from catmodel.delivery.local_store import LocalDirectoryStore
from catmodel.delivery.store_base import Store


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
            "credentials), to 'mlflow' (with MLFLOW_TRACKING_URI) or to a local directory, e.g. "
            "MODEL_STORE=var/model-store"
        )
    if kind.lower() == "azure":
        # Imported when chosen: the Azure SDK is large, and a local store does not need it.
        from catmodel.delivery.azure_store import AzureBlobStore

        return AzureBlobStore.from_settings(
            settings, credential=credential, client_options=client_options
        )
    if kind.lower() == "mlflow":
        # Imported when chosen, like Azure's SDK: mlflow-skinny is not small either.
        from catmodel.delivery.mlflow_store import MlflowStore

        return MlflowStore.from_settings(settings)
    path = Path(kind.removeprefix("file://"))
    if not path.is_absolute():
        path = Path(getattr(settings, "BASE_DIR", Path.cwd())) / path
    return LocalDirectoryStore(path, prefix=prefix)
