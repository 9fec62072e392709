"""KServe's model server around catsite's model: ``serve(...)`` runs until SIGTERM.

Why KServe's Python model server: it already speaks the Open Inference Protocol v2 REST API
(health, metadata, infer, the binary data extension, Prometheus metrics at ``/metrics``) on
uvicorn, and a custom model is one ``kserve.Model`` subclass; the kserve package is well kept
(the KServe project, CNCF). Seldon MLServer would do the same, but its runtime API is built
around its own settings files and codecs. What we add is in protocol.py (binary photos, the
version in the metadata, errors in the protocol's shape) and here (the bind address, limits on
a request's size and its JSON (json_limits.py), and only the routes we serve). One process,
one ONNX Runtime session; no gRPC port.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time

from kserve import ModelServer
from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
from kserve.protocol.rest.server import RESTServer
from uvicorn.importer import import_from_string

from catmodel.inference import DEFAULT_MAX_PIXELS, load_classifier

from .json_limits import JsonRefused, check_json, json_part
from .model import CatsiteModel
from .protocol import EXCEPTION_HANDLERS, CatsiteDataPlane

logger = logging.getLogger(__name__)


class RequestLimits:
    """ASGI middleware: a body over ``max_bytes`` is refused with 413 before the app parses it,
    and so is JSON over json_limits' bounds (400/413). The body is read here (the app would read
    it whole anyway) and handed on as one message."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send, 413, self._too_large, "file_too_large")
        received, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            received += message.get("body", b"")
            if len(received) > self.max_bytes:
                return await self._refuse(send, 413, self._too_large, "file_too_large")
            more = message.get("more_body", False)
        body = bytes(received)
        del received  # not held twice while the app answers
        if body:
            try:
                check_json(json_part(body, headers))
            except JsonRefused as refused:
                code = "file_too_large" if refused.status == 413 else "invalid_request"
                return await self._refuse(send, refused.status, refused.message, code)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @property
    def _too_large(self) -> str:
        return (f"The request is larger than the {self.max_bytes} bytes accepted. Send fewer or "
                "smaller photos.")

    @staticmethod
    async def _refuse(send, status: int, message: str, code: str):
        body = json.dumps({"error": message, "code": code}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


# The routes the service keeps: the protocol's health, metadata and inference, KServe's liveness
# at / and its Prometheus metrics. Everything else KServe registers answers 404, above all the
# model repository extension (POST /v2/repository/models/<name>/load and unload), which takes
# no credentials: anyone who reaches the port could unload the model while /v2/health/ready
# stays true. Also closed: the v1 protocol (its predict parses any JSON body whole), the
# versioned routes (KServe answers them "not implemented") and the OpenAPI schema. An
# allow-list, so that routes a later KServe adds stay closed until someone opens them here.
SERVED_ROUTES = (
    "/", "/metrics",
    "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models",
    "/v2/models/{model_name}", "/v2/models/{model_name}/ready",
    "/v2/models/{model_name}/infer",
)
_SERVED = re.compile("|".join(
    re.escape(route).replace(re.escape("{model_name}"), "[^/]+") for route in SERVED_ROUTES))


class ServedRoutesOnly:
    """ASGI middleware: a path outside SERVED_ROUTES is answered 404 before the app (and its
    body) is touched. Middleware rather than removing KServe's routes from the app: FastAPI's
    router internals change between versions; the ASGI interface does not."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _SERVED.fullmatch(scope["path"]):
            return await self.app(scope, receive, send)
        body = b'{"error":"Not Found"}'
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class CatsiteRESTServer(RESTServer):
    def __init__(self, *args, host: str, max_request_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.config.host = host  # KServe always binds 0.0.0.0
        self.max_request_bytes = max_request_bytes

    def create_application(self):
        super().create_application()
        app = import_from_string(FASTAPI_APP_IMPORT_STRING)  # the app KServe just set up
        for error_type, handler in EXCEPTION_HANDLERS.items():
            app.add_exception_handler(error_type, handler)
        app.add_middleware(RequestLimits, max_bytes=self.max_request_bytes)
        app.add_middleware(ServedRoutesOnly)  # the last added runs first


class CatsiteModelServer(ModelServer):
    """KServe's ModelServer with one REST server bound to ``host``, and our data plane."""

    def __init__(self, host: str, http_port: int, max_request_bytes: int,
                 max_asyncio_workers: int | None = None):
        """``max_asyncio_workers``: the event loop's thread pool (CatsiteModel.threads; KServe's
        default counts the node's cores, and reads cgroup v1 only)."""
        super().__init__(http_port=http_port, enable_grpc=False, workers=1,
                         enable_docs_url=False, max_asyncio_workers=max_asyncio_workers)
        self.host, self.max_request_bytes = host, max_request_bytes
        self.dataplane = CatsiteDataPlane(model_registry=self.registered_models)

    def start(self, models) -> None:
        # ModelServer.start with workers=1 and no gRPC, but our REST server (bind address,
        # error handlers, size limit).
        self._register_and_check_atleast_one_model_is_ready(models)
        self._rest_server = CatsiteRESTServer(
            FASTAPI_APP_IMPORT_STRING, self.dataplane, self.model_repository_extension,
            self.http_port, host=self.host, max_request_bytes=self.max_request_bytes,
            access_log_format=self.access_log_format, workers=1,
            grace_period=self.grace_period, event_loop=self.event_loop,
            timeout_keep_alive=self.timeout_keep_alive,
        )
        self.servers.append(self._rest_server.start())
        self.setup_event_loop()
        self.register_signal_handler()
        asyncio.run(self._serve())


def serve(package_dir, *, host: str, port: int, threads: int | None = None,
          max_pixels: int = DEFAULT_MAX_PIXELS, max_request_bytes: int,
          **decode_and_trust) -> None:
    """Load and verify the package in ``package_dir``, then serve it until stopped.
    ``decode_and_trust``: load_classifier's max_decode_bytes, decode_gate and trusted_keys.
    Raises ModelUnavailable or BadModelPackage (before binding) when it cannot be loaded."""
    classifier = load_classifier(package_dir, threads=threads, max_pixels=max_pixels,
                                 **decode_and_trust)
    # KServe's per-request timing lines (three a request, beside the access log) only when
    # debugging.
    if not logger.isEnabledFor(logging.DEBUG):
        logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    model = CatsiteModel(classifier)
    # The warm-up inference, before the port opens: /v2/health/ready and
    # /v2/models/<name>/ready answer only once it has run (KServe registers ready models only).
    started = time.perf_counter()
    model.load()
    logger.info("Warm-up inferences through %s %s: %.1f ms at load, %.1f ms through the "
                "service's steps; %d decode slots, %d ONNX Runtime threads", classifier.name,
                classifier.version, classifier.warm_up_ms,
                (time.perf_counter() - started) * 1000, model.slots,
                classifier.session.get_session_options().intra_op_num_threads)
    logger.info("Serving model %s %s on http://%s:%d/v2/models/%s", classifier.name,
                classifier.version, host, port, classifier.name)
    CatsiteModelServer(host, port, max_request_bytes,
                       max_asyncio_workers=model.threads).start([model])
