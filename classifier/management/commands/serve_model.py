"""manage.py serve_model: serve the installed model over the Open Inference Protocol v2 (REST).

    manage.py serve_model [--host H] [--port P]

Serves MODEL_DIR/current with KServe's model server (catmodel/serving/): /v2/health/live,
/v2/health/ready, /v2/models/<name> (metadata), /v2/models/<name>/ready and
/v2/models/<name>/infer, where <name> is the package's name and its version is in the metadata
and in every answer; nothing else (KServe's model repository routes, which would let anyone
unload the model, and its v1 protocol answer 404). The web processes use it when INFERENCE_URL
points at it. The package is
verified before the port opens; a missing or broken package ends the command with one line and
exit status 1. Runs until SIGTERM or Ctrl-C.
"""
import logging
from typing import ClassVar

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catmodel.inference import ClassifierError
from catmodel.malloc import return_large_buffers
from classifier import runtime

logger = logging.getLogger(__name__)

# Room for the JSON header and the binary framing around a photo of UPLOAD_MAX_BYTES.
REQUEST_ENVELOPE_BYTES = 1024 * 1024


class Command(BaseCommand):
    help = "Serve the installed model over the Open Inference Protocol v2 REST API (KServe)."
    # The service needs neither the database nor the URLs.
    requires_system_checks: ClassVar[list] = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1",
                            help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
        parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")

    def handle(self, *args, **options):
        # The gunicorn workers' allocator settings, before any thread starts: a request's
        # large decodes go back to the system instead of staying in per-thread arenas.
        if not return_large_buffers():
            logger.warning("not glibc: the service's memory returns to the system only as the "
                           "C library decides")
        # Imported here: KServe takes seconds to import, and no other command needs it.
        from catmodel.serving.server import serve

        try:
            serve(runtime.package_dir(), host=options["host"], port=options["port"],
                  threads=settings.MODEL_THREADS or None,
                  max_request_bytes=settings.UPLOAD_MAX_BYTES + REQUEST_ENVELOPE_BYTES,
                  **runtime.decode_and_trust_settings())
        except ClassifierError as error:
            raise CommandError(f"cannot serve the model: {error.message} "
                               "(install one with manage.py fetch_model)") from None
