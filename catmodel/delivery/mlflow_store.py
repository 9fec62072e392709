"""A model store in an MLflow model registry (MLflow's tracking server, or an Azure ML workspace,
which speaks the same protocol), through the light client ``mlflow-skinny``.

The store's keys map onto the registry like this (REGISTERED = MLFLOW_REGISTERED_MODEL, or the
model name):
    <name>/<version>/<file>      an artifact ``package/<file>`` of the run that holds the version
                                 (experiment ``catsite/REGISTERED``, tags catsite.version=<version>)
    <name>/<version>/manifest.json
                                 uploading it also registers the run's ``package`` folder as a
                                 version of REGISTERED, tagged with the catsite version, the sha256
                                 of each file and whether a signature is there: a version exists
                                 once the registry lists it, as in the other stores. A package
                                 trained with MLflow tracking (manifest lineage.mlflow) adds the
                                 tag catsite.training_run_id and, when that run is on this
                                 server, the version's run link to it: a champion leads back to
                                 the run that trained it
    <name>/champion, challenger  the registered model's aliases of those names, so MLflow tools
                                 can load ``models:/REGISTERED@champion``
    <name>/latest                the alias ``latest-published`` (MLflow reserves ``latest`` for
                                 its own highest version number)
    <name>/history/<alias>/...   artifacts of one run tagged catsite.role=history

MLflow has no conditional write (no ETag, no create-if-absent for versions or aliases). The one
atomic create it offers is a unique name, so alias moves and version registration hold a
short-lived registered model ``REGISTERED.catsite-lock`` as a lock: a writer that finds it
waits a little, then fails with a message saying how to clear a lock left by a killed process.
The alias's etag is the MLflow version number it points at.
"""
from __future__ import annotations

import contextlib
import posixpath
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from catmodel.delivery.errors import (
    AccessDenied,
    AlreadyExists,
    Conflict,
    DeliveryError,
    NotFound,
    StoreFailure,
    StoreNotConfigured,
    StoreUnreachable,
    first_line,
)
from catmodel.delivery.store_base import ALIASES, HISTORY, LATEST, ChunkWriter, ProgressHook, Store
from catmodel.inference.package import MANIFEST, SIGNATURE_FILE, parse_manifest
from catmodel.mlflow_client import (
    TRAINING_RUN_TAG,
    client_secrets,
    is_network_error,
    mlflow_client,
    public_uri,
    training_run,
    without_credentials,
)
from catmodel.redaction import redact

PACKAGE_FOLDER = "package"
LATEST_ALIAS = "latest-published"
VERSION_TAG = "catsite.version"
SHA256_TAG = "catsite.sha256."  # + file name
SIGNATURE_TAG = "catsite.signature"
ROLE_TAG = "catsite.role"
_CHUNK = 1024 * 1024
_LOCK_WAIT_SECONDS = 10


def mlflow_alias(alias: str) -> str:
    return LATEST_ALIAS if alias == LATEST else alias


class MlflowStore(Store):
    def __init__(self, tracking_uri: str, registered_model: str = "", *, timeout: float = 10,
                 retries: int = 2):
        if not tracking_uri:
            raise StoreNotConfigured("MODEL_STORE is 'mlflow' but MLFLOW_TRACKING_URI is not set: "
                                     "set it to the tracking server, e.g. http://mlflow:5000")
        self.tracking_uri = tracking_uri.rstrip("/")
        self.registered_model = registered_model
        self.timeout, self.retries = timeout, retries
        self.client = mlflow_client(self.tracking_uri, timeout, retries)
        self._secrets = client_secrets()
        self.description = f"MLflow registry at {public_uri(self.tracking_uri)}"

    @classmethod
    def from_settings(cls, settings) -> MlflowStore:
        return cls(settings.MLFLOW_TRACKING_URI, settings.MLFLOW_REGISTERED_MODEL,
                   timeout=settings.MODEL_STORE_TIMEOUT_SECONDS,
                   retries=settings.MODEL_STORE_RETRIES)

    # --- operations -----------------------------------------------------------------------------
    def ensure_container(self) -> None:
        with self._errors("reaching", ""):
            self.client.search_experiments(max_results=1)

    def exists(self, key: str) -> bool:
        with self._errors("checking", key):
            if self._is_alias(key):
                return self._alias_version(key) is not None
            try:
                self._locate(key)
            except NotFound:
                return False
            return True

    def read_small(self, key: str, limit: int) -> tuple[bytes, str]:
        with self._errors("reading", key):
            if self._is_alias(key):
                version = self._alias_version(key)
                if version is None:
                    raise NotFound(f"{key} is not in {self.description}", key)
                data = (version.tags.get(VERSION_TAG, "") + "\n").encode()
                etag = str(version.version)
            else:
                chunks = []

                def keep(chunk: bytes) -> None:
                    chunks.append(chunk)
                    if sum(map(len, chunks)) > limit:  # stop at once: not what we wrote
                        raise self._too_large(key, limit)

                self.download(key, keep)
                data, etag = b"".join(chunks), ""
        if len(data) > limit:
            raise self._too_large(key, limit)
        return data, etag

    def _too_large(self, key: str, limit: int) -> StoreFailure:
        return StoreFailure(f"{key} in {self.description} is larger than {limit} bytes; it is "
                            "not what publish_model writes there")

    def download(self, key: str, write: ChunkWriter, progress: ProgressHook | None = None) -> int:
        with self._errors("downloading", key):
            run_id, path = self._locate(key)
            repo = self._artifacts(run_id)
            total = self._size(repo, path)
            # The tracking server's artifact proxy (mlflow-artifacts:, HTTP): stream it.
            if getattr(repo, "_host_creds", None) is not None:
                return self._stream(repo, path, total, write, progress)
            # Other artifact stores (cloud buckets behind a registry): one copy, then read it.
            with tempfile.TemporaryDirectory(prefix="catsite-mlflow-") as work:
                local = Path(repo.download_artifacts(path, dst_path=work))
                with local.open("rb") as data:
                    done = 0
                    while chunk := data.read(_CHUNK):
                        write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            return total

    def upload(self, key: str, source: Path | bytes, *, overwrite: bool,
               progress: ProgressHook | None = None) -> None:
        name, version, filename = self._parts(key)
        with self._errors("writing", key):
            if version == HISTORY:
                self._upload_history(key, source, overwrite)
            elif filename == MANIFEST:
                with self._lock(name):
                    self._upload_manifest(name, version, source, overwrite)
            else:
                run_id = self._ensure_run_for(name, version)
                if not overwrite and self._artifact_exists(run_id, f"{PACKAGE_FOLDER}/{filename}"):
                    raise AlreadyExists(f"{key} already exists in {self.description}")
                self._log(run_id, PACKAGE_FOLDER, filename, source)
                if filename == SIGNATURE_FILE:
                    registered = self._version_of(name, version)
                    if registered is not None:
                        self.client.set_model_version_tag(registered.name, registered.version,
                                                          SIGNATURE_TAG, "present")
        if progress:
            size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
            progress(size, size)

    def put_if_unchanged(self, key: str, data: bytes, etag: str | None) -> None:
        if not self._is_alias(key):
            raise StoreFailure(f"{key}: the MLflow store moves only aliases conditionally")
        name, alias = key.split("/")
        target = data.decode().strip()
        with self._errors("writing", key), self._lock(name):
            current = self._alias_version(key)
            if (str(current.version) if current else None) != etag:
                raise Conflict(f"{key} in {self.description} changed since it was read")
            registered = self._version_of(name, target)
            if registered is None:
                raise NotFound(f"version {target} of {self._registered(name)} is not in "
                               f"{self.description}", key)
            self.client.set_registered_model_alias(registered.name, mlflow_alias(alias),
                                                   registered.version)

    def list_keys(self, folder: str) -> list[str]:
        name, kind, alias = folder.strip("/").split("/")[:3]
        if kind != HISTORY:
            raise StoreFailure(f"{folder}: the MLflow store lists only alias histories")
        with self._errors("listing", folder):
            run_id = self._history_run(name)
            if run_id is None:
                return []
            entries = self.client.list_artifacts(run_id, alias)
            return sorted(f"{folder}{posixpath.basename(entry.path)}" for entry in entries
                          if not entry.is_dir)

    # --- the registry's objects ---------------------------------------------------------------
    def _registered(self, name: str) -> str:
        return self.registered_model or name

    # Finding never creates; the _ensure_ twins create what is missing and so always return an id.
    def _experiment(self, name: str) -> str | None:
        experiment = self.client.get_experiment_by_name(self._experiment_name(name))
        return experiment.experiment_id if experiment is not None else None

    def _ensure_experiment(self, name: str) -> str:
        experiment_name = self._experiment_name(name)
        experiment = self.client.get_experiment_by_name(experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self.client.create_experiment(experiment_name)
        except Exception as exc:
            if _code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise
            # Another publisher created it between our look-up and our create.
            created = self.client.get_experiment_by_name(experiment_name)
            if created is None:
                raise
            return created.experiment_id

    def _experiment_name(self, name: str) -> str:
        return f"catsite/{self._registered(name)}"

    def _find_run(self, name: str, tag: str, value: str) -> str | None:
        experiment = self._experiment(name)
        return self._search_run(experiment, tag, value) if experiment is not None else None

    def _ensure_run(self, name: str, tag: str, value: str, *, run_name: str) -> str:
        experiment = self._ensure_experiment(name)
        found = self._search_run(experiment, tag, value)
        if found is not None:
            return found
        run = self.client.create_run(experiment, run_name=run_name,
                                     tags={tag: value, "catsite.model": name})
        self.client.set_terminated(run.info.run_id)
        return run.info.run_id

    def _search_run(self, experiment: str, tag: str, value: str) -> str | None:
        runs = self.client.search_runs(
            [experiment], filter_string=f"tags.`{tag}` = '{value}'", max_results=1,
            order_by=["attributes.start_time ASC"])
        return runs[0].info.run_id if runs else None

    def _run_for(self, name: str, version: str) -> str | None:
        return self._find_run(name, VERSION_TAG, version)

    def _ensure_run_for(self, name: str, version: str) -> str:
        return self._ensure_run(name, VERSION_TAG, version, run_name=version)

    def _history_run(self, name: str) -> str | None:
        return self._find_run(name, ROLE_TAG, HISTORY)

    def _ensure_history_run(self, name: str) -> str:
        return self._ensure_run(name, ROLE_TAG, HISTORY, run_name="alias-history")

    def _version_of(self, name: str, version: str):
        """The registered model version holding catsite ``version``, or None."""
        run_id = self._run_for(name, version)
        if run_id is None:
            return None
        versions = self.client.search_model_versions(
            f"name = '{self._registered(name)}' and run_id = '{run_id}'")
        found = [v for v in versions if v.tags.get(VERSION_TAG) == version]
        return max(found, key=lambda v: int(v.version)) if found else None

    def _alias_version(self, key: str):
        name, alias = key.split("/")
        try:
            return self.client.get_model_version_by_alias(self._registered(name),
                                                          mlflow_alias(alias))
        except Exception as exc:
            if _code(exc) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
                return None
            raise

    def _upload_manifest(self, name: str, version: str, source, overwrite: bool) -> None:
        registered = self._version_of(name, version)
        if registered is not None and not overwrite:
            raise AlreadyExists(f"{name}/{version}/{MANIFEST} already exists in "
                                f"{self.description}")
        run_id = self._ensure_run_for(name, version)
        self._log(run_id, PACKAGE_FOLDER, MANIFEST, source)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        tags = {VERSION_TAG: version, SIGNATURE_TAG: "present" if self._artifact_exists(
            run_id, f"{PACKAGE_FOLDER}/{SIGNATURE_FILE}") else "absent"}
        tags.update(manifest_tags(data))
        model = self._registered(name)
        if registered is None:
            try:
                self.client.create_registered_model(model)
            except Exception as exc:
                if _code(exc) != "RESOURCE_ALREADY_EXISTS":
                    raise
            self.client.create_model_version(model, f"runs:/{run_id}/{PACKAGE_FOLDER}",
                                             run_id=run_id, tags=tags,
                                             run_link=self._run_link(tags.get(TRAINING_RUN_TAG)))
        else:
            for tag, value in tags.items():
                self.client.set_model_version_tag(model, registered.version, tag, value)

    def _run_link(self, training_run_id: str | None) -> str | None:
        """The address of the run that trained the package, when that run is on this server:
        MLflow's UI shows it as the version's source run (the version's ``run_id`` must be the
        run holding its files, this store's own run, so the link goes here)."""
        if not training_run_id:
            return None
        try:
            run = self.client.get_run(training_run_id)
        except Exception as exc:
            if _code(exc) in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE"):
                return None  # trained against another tracking server: the tag still names it
            raise
        return (f"{without_credentials(self.tracking_uri)}/#/experiments/"
                f"{run.info.experiment_id}/runs/{training_run_id}")

    def _upload_history(self, key: str, source, overwrite: bool) -> None:
        name, _, alias, filename = key.split("/")
        run_id = self._ensure_history_run(name)
        if not overwrite and self._artifact_exists(run_id, f"{alias}/{filename}"):
            raise AlreadyExists(f"{key} already exists in {self.description}")
        self._log(run_id, alias, filename, source)

    # --- artifacts --------------------------------------------------------------------------------
    def _locate(self, key: str) -> tuple[str, str]:
        """(run id, artifact path) of a version file or history record; NotFound if missing."""
        name, version, filename = self._parts(key)
        if version == HISTORY:
            run_id = self._history_run(name)
            path = "/".join(key.split("/")[2:])
        else:
            run_id = self._run_for(name, version)
            path = f"{PACKAGE_FOLDER}/{filename}"
            if filename == MANIFEST and self._version_of(name, version) is None:
                run_id = None  # uploaded, but the version was never registered: not published
        if run_id is None or not self._artifact_exists(run_id, path):
            raise NotFound(f"{key} is not in {self.description}", key)
        return run_id, path

    def _artifacts(self, run_id: str):
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        uri = self.client.get_run(run_id).info.artifact_uri
        return get_artifact_repository(uri, tracking_uri=self.tracking_uri)

    def _artifact_exists(self, run_id: str, path: str) -> bool:
        folder = posixpath.dirname(path)
        return any(entry.path == path and not entry.is_dir
                   for entry in self.client.list_artifacts(run_id, folder or None))

    def _size(self, repo, path: str) -> int:
        for entry in repo.list_artifacts(posixpath.dirname(path) or None):
            if entry.path == path:
                return entry.file_size or 0
        return 0

    def _stream(self, repo, path: str, total: int, write: ChunkWriter,
                progress: ProgressHook | None) -> int:
        """Stream a file through the tracking server's artifact proxy, chunk by chunk, as
        HttpArtifactRepository does, so the caller hashes it while it arrives."""
        from mlflow.utils.rest_utils import augmented_raise_for_status, http_request

        response = http_request(repo._host_creds, posixpath.join("/", path), "GET", stream=True,
                                timeout=self.timeout, max_retries=self.retries)
        with response:
            augmented_raise_for_status(response)
            done = 0
            for chunk in response.iter_content(chunk_size=_CHUNK):
                write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        return total

    def _log(self, run_id: str, folder: str, filename: str, source: Path | bytes) -> None:
        with tempfile.TemporaryDirectory(prefix="catsite-mlflow-") as work:
            local = Path(work) / filename
            if isinstance(source, bytes):
                local.write_bytes(source)
            else:
                local.symlink_to(Path(source).resolve())
            self.client.log_artifact(run_id, str(local), artifact_path=folder)

    # --- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _is_alias(key: str) -> bool:
        parts = key.split("/")
        return len(parts) == 2 and parts[1] in ALIASES

    def _parts(self, key: str) -> tuple[str, str, str]:
        parts = key.split("/")
        if len(parts) == 3 or (len(parts) == 4 and parts[1] == HISTORY):
            return parts[0], parts[1], parts[-1]
        raise StoreFailure(f"{key} is not a key the MLflow store keeps")

    @contextmanager
    def _lock(self, name: str):
        """Hold ``REGISTERED.catsite-lock`` (a unique registered model name) while checking and
        writing: the only compare-and-set MLflow's registry allows."""
        lock = f"{self._registered(name)}.catsite-lock"
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                self.client.create_registered_model(
                    lock, description="held by catsite's publish_model while it moves an alias")
                break
            except Exception as exc:
                if _code(exc) != "RESOURCE_ALREADY_EXISTS":
                    raise
                if time.monotonic() > deadline:
                    raise Conflict(
                        f"the registered model {lock} in {self.description} exists: another "
                        "publish_model is moving an alias, or one was killed; if none is running, "
                        f"delete {lock} in MLflow and try again") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                self.client.delete_registered_model(lock)

    @contextmanager
    def _errors(self, action: str, key: str):
        """MLflow and network errors as one-line delivery errors, with credentials removed."""
        where = f"{key} in {self.description}" if key else self.description
        try:
            yield
        except DeliveryError:
            raise
        except Exception as exc:  # noqa: BLE001 - MlflowException and requests' errors
            code = _code(exc)
            text = first_line(redact(str(exc), self._secrets), 160)
            if code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
                raise NotFound(f"{key} is not in {self.description}", key) from None
            if code in ("PERMISSION_DENIED", "UNAUTHENTICATED") or " 401" in text or \
                    " 403" in text:
                raise AccessDenied(
                    f"access denied when {action} {where}: use credentials that may "
                    f"{'write to' if action == 'writing' else 'read'} the registry "
                    "(MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME/PASSWORD)") from None
            if is_network_error(exc):
                raise StoreUnreachable(
                    f"cannot reach {self.description} when {action} {key or 'it'} (connection "
                    f"failed after {self.retries} retries with a {self.timeout:g} s timeout): "
                    "check MLFLOW_TRACKING_URI and that the server runs, or raise "
                    "MODEL_STORE_TIMEOUT_SECONDS / MODEL_STORE_RETRIES") from None
            raise StoreFailure(f"{action} {where} failed: {text}; retry, or check the "
                               "registry") from None


def _code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", "") or "")


def manifest_tags(manifest_data: bytes) -> dict[str, str]:
    """The sha256 tags of a registered version, from its manifest; none for bytes that are not
    a manifest (the store stores bytes; publish_model has verified real packages before)."""
    try:
        manifest = parse_manifest(manifest_data)
    except Exception:  # noqa: BLE001 - BadModelPackage or anything a broken document raises
        return {}
    tags = {f"{SHA256_TAG}{file}": entry.sha256 for file, entry in manifest.files.items()}
    run = training_run(manifest.raw)
    if run is not None:
        tags[TRAINING_RUN_TAG] = run["run_id"]
    return tags
