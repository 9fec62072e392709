"""A model store in an Azure Blob Storage container (azure-storage-blob).

Authentication, first match wins: a connection string; an account URL with a SAS token; an
account URL with a token credential (DefaultAzureCredential, i.e. managed or workload identity in
AKS, or one injected by tests). Every client gets its own retry policy object and the timeouts
from settings, so a dead or hung endpoint fails in seconds: the SDK's defaults retry for minutes,
and a retry policy shared between clients breaks the second client's authentication.
"""
import re
from contextlib import contextmanager
from pathlib import Path

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ExponentialRetry

from catmodel.delivery.errors import (
    AccessDenied,
    AlreadyExists,
    Conflict,
    DeliveryError,
    NotFound,
    StoreFailure,
    StoreMissing,
    StoreNotConfigured,
    StoreUnreachable,
    first_line,
)
from catmodel.delivery.store_base import ChunkWriter, ProgressHook, Store, pump
from catmodel.redaction import redact

# Upload in blocks of this size (and download in chunks of it), so progress moves on large models.
_BLOCK = 4 * 1024 * 1024


def retry_policy(retries: int) -> ExponentialRetry:
    """A new policy object for one client: waits about 0.5, 2.5, 4.5, 8.5 s between attempts."""
    # The SDK annotates both as int, but only adds them and passes them to random.uniform:
    # fractions of a second work, and whole seconds would wait twice as long.
    return ExponentialRetry(
        initial_backoff=0.5, increment_base=2, retry_total=retries,  # type: ignore[arg-type]
        random_jitter_range=0.25,  # type: ignore[arg-type]
    )


class AzureBlobStore(Store):
    def __init__(self, *, container: str, prefix: str = "", account_url: str = "",
                 connection_string: str = "", credential=None, timeout: float = 10,
                 retries: int = 2, client_options: dict | None = None):
        """``credential`` is a SAS token string or a token credential (``get_token``)."""
        options = {
            "retry_policy": retry_policy(retries),
            "connection_timeout": timeout,
            "read_timeout": timeout,
            "max_single_put_size": _BLOCK,
            "max_block_size": _BLOCK,
            "max_single_get_size": _BLOCK,
            "max_chunk_get_size": _BLOCK,
            **(client_options or {}),
        }
        self.container_name = container
        self.prefix = prefix
        self.timeout, self.retries = timeout, retries
        # Values that must never reach a message or a log line.
        self._secrets = [s for s in (connection_string, credential) if isinstance(s, str)]
        try:
            if connection_string:
                self.service = BlobServiceClient.from_connection_string(
                    connection_string, **options)
            else:
                self.service = BlobServiceClient(account_url, credential=credential, **options)
        except ValueError as exc:
            # A malformed connection string or URL, or a token credential over plain HTTP.
            raise StoreNotConfigured(
                f"the Azure model store settings are not usable: "
                f"{first_line(redact(str(exc), self._secrets))}; check "
                "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL"
            ) from None
        self.container = self.service.get_container_client(container)
        endpoint = self.service.url.split("?", 1)[0].rstrip("/")
        self.description = f"Azure container '{container}' at {endpoint}"

    @classmethod
    def from_settings(cls, settings, *, credential=None, client_options=None) -> "AzureBlobStore":
        connection_string = settings.AZURE_STORAGE_CONNECTION_STRING
        account_url = settings.AZURE_STORAGE_ACCOUNT_URL
        sas_token = settings.AZURE_STORAGE_SAS_TOKEN
        common = {
            "container": settings.MODEL_STORE_CONTAINER,
            "prefix": settings.MODEL_STORE_PREFIX,
            "timeout": settings.MODEL_STORE_TIMEOUT_SECONDS,
            "retries": settings.MODEL_STORE_RETRIES,
            "client_options": client_options,
        }
        if connection_string:
            return cls(connection_string=connection_string, **common)
        if account_url and sas_token:
            return cls(account_url=account_url, credential=sas_token.lstrip("?"), **common)
        if account_url and (credential is not None or settings.AZURE_USE_DEFAULT_CREDENTIAL):
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            return cls(account_url=account_url, credential=credential, **common)
        raise StoreNotConfigured(
            "MODEL_STORE is 'azure' but no credentials are set: set "
            "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_URL with "
            "AZURE_STORAGE_SAS_TOKEN or with AZURE_USE_DEFAULT_CREDENTIAL=1"
        )

    # --- operations -----------------------------------------------------------------------------
    def ensure_container(self) -> None:
        try:
            self.container.create_container()
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            # Credentials scoped to one container (a container SAS, a data-plane role) may write
            # blobs but not create containers; the first write then says what is really missing.
            if exc.status_code not in (401, 403):
                with self._errors("creating the container", ""):
                    raise

    def exists(self, key: str) -> bool:
        with self._errors("checking", key):
            return self._blob(key).exists()

    def read_small(self, key: str, limit: int) -> tuple[bytes, str]:
        with self._errors("reading", key):
            downloader = self._blob(key).download_blob(max_concurrency=1)
            if downloader.size > limit:
                raise StoreFailure(f"{self.full_key(key)} is larger than {limit} bytes; it is "
                                   "not what publish_model writes there")
            return downloader.readall(), downloader.properties.etag

    def download(self, key: str, write: ChunkWriter, progress: ProgressHook | None = None) -> int:
        with self._errors("downloading", key):
            downloader = self._blob(key).download_blob(max_concurrency=1)
            return pump(downloader.chunks(), downloader.size, write, progress)

    def upload(self, key: str, source: Path | bytes, *, overwrite: bool,
               progress: ProgressHook | None = None) -> None:
        with self._errors("writing", key):
            if isinstance(source, bytes):
                self._upload(key, source, len(source), overwrite, progress)
            else:
                with open(source, "rb") as stream:
                    self._upload(key, stream, Path(source).stat().st_size, overwrite, progress)

    def _upload(self, key, data, length, overwrite, progress) -> None:
        try:
            self._blob(key).upload_blob(
                data, length=length, overwrite=overwrite, max_concurrency=1,
                progress_hook=progress,
            )
        except ResourceExistsError:
            raise AlreadyExists(
                f"{self.full_key(key)} already exists in {self.description}") from None

    def put_if_unchanged(self, key: str, data: bytes, etag: str | None) -> None:
        with self._errors("writing", key):
            try:
                if etag is None:
                    # overwrite=False sends If-None-Match: *, so only the first creator wins.
                    self._blob(key).upload_blob(data, overwrite=False)
                else:
                    self._blob(key).upload_blob(
                        data, overwrite=True, etag=etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
            except (ResourceExistsError, ResourceModifiedError):
                raise Conflict(f"{self.full_key(key)} in {self.description} changed since it "
                               "was read") from None

    def list_keys(self, folder: str) -> list[str]:
        start = len(self.full_key(""))
        with self._errors("listing", folder):
            try:
                blobs = self.container.list_blobs(name_starts_with=self.full_key(folder))
                return sorted(blob.name[start:] for blob in blobs)
            except ResourceNotFoundError as exc:
                if _error_code(exc) == "ContainerNotFound":
                    return []
                raise

    # --- helpers --------------------------------------------------------------------------------
    def _blob(self, key: str):
        return self.container.get_blob_client(self.full_key(key))

    @contextmanager
    def _errors(self, action: str, key: str):
        """SDK errors as one-line delivery errors, with secrets removed."""
        where = f"{self.full_key(key)} in {self.description}" if key else self.description
        try:
            yield
        except DeliveryError:
            raise
        except ResourceNotFoundError as exc:
            if _error_code(exc) == "ContainerNotFound":
                raise StoreMissing(
                    f"{self.description} does not exist: check MODEL_STORE_CONTAINER and the "
                    "account, or publish a model first (publish_model creates the container)"
                ) from None
            raise NotFound(f"{self.full_key(key)} is not in {self.description}", key) from None
        except HttpResponseError as exc:
            if exc.status_code in (401, 403) or isinstance(exc, ClientAuthenticationError):
                raise AccessDenied(self._denied_message(action, where, exc)) from None
            raise StoreFailure(
                f"{self.description} answered {exc.status_code} {self._code(exc)} when {action} "
                f"{where}; retry later, or check the store"
            ) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise StoreUnreachable(
                f"cannot reach {self.description} ({self._reason(exc)}) after "
                f"{self.retries} retries with a {self.timeout:g} s timeout when {action} "
                f"{self.full_key(key) or 'the container'}: check the network and the account "
                "URL, or raise MODEL_STORE_TIMEOUT_SECONDS / MODEL_STORE_RETRIES"
            ) from None
        except AzureError as exc:
            raise StoreFailure(
                f"{action} {where} failed: {self._reason(exc)}; retry, or check the store"
            ) from None

    # Codes that mean "who you are was not accepted", as opposed to "you may not do this".
    _REJECTED = frozenset({"AuthenticationFailed", "AuthorizationFailure",
                           "InvalidAuthenticationInfo"})

    def _denied_message(self, action: str, where: str, exc: HttpResponseError) -> str:
        code = self._code(exc)
        status = f"{exc.status_code} {code}" if exc.status_code else self._reason(exc)
        if code in self._REJECTED or not exc.status_code:
            fix = ("the store rejected the credentials (a wrong key, an expired or revoked SAS or "
                   "token, or a network rule): check AZURE_STORAGE_CONNECTION_STRING, "
                   "AZURE_STORAGE_SAS_TOKEN or the identity's token")
        elif action in ("writing", "creating the container"):
            fix = ("use credentials that may write: a SAS with create and write permissions, "
                   "or the role 'Storage Blob Data Contributor'")
        else:
            fix = ("use credentials that may read: a SAS with read permission, or the role "
                   "'Storage Blob Data Reader'")
        return f"access denied ({status}) when {action} {where}: {fix}"

    @staticmethod
    def _code(exc: HttpResponseError) -> str:
        code = _error_code(exc)
        code = getattr(code, "value", code)  # sometimes an enum member
        return str(code or exc.reason or "").strip()

    def _reason(self, exc: Exception) -> str:
        text = redact(str(exc), self._secrets)
        if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
            return "timed out"
        errno = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
        return errno.group(0).strip() if errno else first_line(text, 120)


def _error_code(exc: HttpResponseError):
    """The storage error code (a StorageErrorCode, a string, or None): the SDK sets
    ``error_code`` on each error it raises (process_storage_error) without declaring it."""
    return exc.error_code  # type: ignore[attr-defined]
