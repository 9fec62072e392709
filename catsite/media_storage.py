"""Media files (species images uploaded in admin) in Azure Blob Storage, via django-storages.

Every replica in Kubernetes then sees the same files, which a pod's own disk cannot give.
settings.py switches it on when AZURE_MEDIA_CONTAINER is set; the account comes from, first
match wins:
  AZURE_MEDIA_CONNECTION_STRING (else the model store's AZURE_STORAGE_CONNECTION_STRING):
      an account key (or Azurite's development account);
  AZURE_ACCOUNT_NAME + AZURE_ACCOUNT_KEY;
  AZURE_ACCOUNT_NAME alone: DefaultAzureCredential (workload identity in AKS; the identity
      needs "Storage Blob Data Contributor", and "Storage Blob Delegator" for signed URLs).
The container stays private: image URLs are signed for AZURE_MEDIA_URL_EXPIRY_SECONDS (0 for
plain URLs, when the container allows anonymous reads or a CDN fronts it).
https://django-storages.readthedocs.io/en/latest/backends/azure.html
"""
from __future__ import annotations

from azure.storage.blob import BlobServiceClient
from storages.backends.azure_storage import AzureStorage

BACKEND = "catsite.media_storage.AzureMediaStorage"


class AzureMediaStorage(AzureStorage):
    """django-storages' AzureStorage, with the client options (timeouts, retries) applied to
    connection strings too: the SDK's defaults take minutes to give up on a dead endpoint."""

    def get_default_settings(self):
        return {**super().get_default_settings(), "use_default_credential": False}

    def __init__(self, **settings):
        super().__init__(**settings)
        if self.use_default_credential and self.token_credential is None:
            # Built with the storage, on first use of media, not in settings: settings do no
            # I/O, and nothing Azure-specific is imported unless media really go to Azure.
            from azure.identity import DefaultAzureCredential

            self.token_credential = DefaultAzureCredential()

    def _get_service_client(self):
        if self.connection_string is not None:
            return BlobServiceClient.from_connection_string(
                self.connection_string, **self.client_options
            )
        return super()._get_service_client()


def parse_connection_string(connection_string: str) -> dict[str, str]:
    """``Key=Value;...`` -> dict (values may contain '=', as base64 keys do)."""
    parts = (part.split("=", 1) for part in connection_string.split(";") if "=" in part)
    return {key.strip(): value.strip() for key, value in parts}


def azure_media_storage(*, container: str, connection_string: str = "", account_name: str = "",
                        account_key: str = "", url_expiry_seconds: int = 3600,
                        timeout_seconds: float = 10.0, retries: int = 2,
                        credential=None) -> dict:
    """The STORAGES["default"] entry for media in ``container``.

    ``credential`` is used when there is neither a connection string nor an account key; it
    defaults to DefaultAzureCredential, which the storage builds on first use (this runs in
    settings, which do no I/O).
    """
    if not container:
        raise ValueError("an Azure media container name is required")
    options = {
        "azure_container": container,
        "expiration_secs": url_expiry_seconds or None,
        # Two uploads of "tabby.jpg" keep both (Django picks a new name) rather than replacing.
        "overwrite_files": False,
        "timeout": timeout_seconds,
        # Per client: one shared retry policy object breaks the second client's auth.
        "client_options": {
            "connection_timeout": timeout_seconds,
            "read_timeout": timeout_seconds,
            "retry_total": retries,
        },
    }
    if connection_string:
        parsed = parse_connection_string(connection_string)
        # The account name and key sign the URLs; the connection string reaches the endpoint.
        options.update(connection_string=connection_string,
                       account_name=parsed.get("AccountName"),
                       account_key=parsed.get("AccountKey"))
    elif not account_name:
        raise ValueError("Azure media storage needs AZURE_MEDIA_CONNECTION_STRING or "
                         "AZURE_ACCOUNT_NAME (with AZURE_ACCOUNT_KEY or workload identity)")
    elif account_key:
        options.update(account_name=account_name, account_key=account_key)
    elif credential is None:
        options.update(account_name=account_name, use_default_credential=True)
    else:
        options.update(account_name=account_name, token_credential=credential)
    return {"BACKEND": BACKEND, "OPTIONS": options}
