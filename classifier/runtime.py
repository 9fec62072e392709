"""The model the running process serves: loaded once, shared by every thread; or, with
settings.INFERENCE_URL, the model service it calls instead (no model loaded here).

The web process loads the installed package (settings.MODEL_DIR/current) at start-up, from
catsite.wsgi, and never downloads anything. Loading ends with one warm-up inference through the
model (and through the challenger, when one is set: classifier/shadow.py), so under gunicorn
each worker is warm before it accepts a connection; while a load is under way /readyz answers
503 "warming up" (``status`` never waits for it). Without a package the site keeps serving pages;
identification answers 503 and /readyz says why when settings.MODEL_REQUIRED is on.
A new model is picked up on the next process start (a rollout restarts the pods).
"""
import logging
import threading
from importlib import metadata

from django.conf import settings

from catmodel.inference import ClassifierError, DecodeGate, ModelUnavailable, load_classifier
from catmodel.inference.package import MANIFEST, MODEL_FILE, SIGNATURE_FILE
from catmodel.inference.signatures import load_trusted_keys
from catmodel.serving.client import InferenceClient, RemoteClassifier
from classifier import metrics, shadow
from classifier.signing_policy import require_signature_policy

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state = {"attempted": False, "classifier": None, "error": None, "reason": None,
          "decode_gate": None, "loading": False}
# What /readyz says while a load (and its warm-up inference) is under way.
WARMING_UP = "warming up: the model's warm-up inference has not run yet"


def package_dir():
    return settings.MODEL_DIR / "current"


def load(force: bool = False):
    """Load the installed package once; later calls return what the first one found.
    ImproperlyConfigured, every time, while the settings would serve an unchecked signature."""
    if not settings.INFERENCE_URL:
        # First, on every call (three settings read): a refusal must never turn into a quiet
        # "no model", nor be skipped because something was loaded before.
        require_signature_policy()
    with _lock:
        if _state["attempted"] and not force:
            return _state["classifier"]
        _state.update(attempted=True, classifier=None, error=None, reason=None,
                      decode_gate=_new_decode_gate(), loading=True)
        try:
            return _load()
        finally:
            _state["loading"] = False


def _load():
    if settings.INFERENCE_URL:
        classifier = remote_classifier()
        logger.info("Identifying through the model service at %s (no model loaded here)",
                    settings.INFERENCE_URL)
    else:
        classifier = _load_installed()
        metrics.set_model(classifier)
    # The challenger, loaded and warmed up now rather than on the first sampled photo.
    shadow.get().prepare()
    # Published last: until here status() says "warming up".
    _state["classifier"] = classifier
    return classifier


def served_model() -> tuple[str, str]:
    """Name and version of the model served, without loading or asking anything ("" when
    unknown): the model service's version is only known by asking it, and a hung service must
    not hold an answer that already failed."""
    classifier = _state["classifier"]
    if classifier is None:
        return "", ""
    if settings.INFERENCE_URL:
        return classifier.name, ""
    return classifier.name, classifier.version


def served_model_key() -> str:
    """The served model as one string ("name/version"), for the page cache's variants."""
    return "/".join(served_model())


def _load_installed():
    """The installed package, loaded; None (and _state["error"], _state["reason"]) when there
    is none or it fails its checks."""
    path = package_dir()
    if not (path / MANIFEST).exists():
        _state["error"] = f"no model package installed at {path}"
        _state["reason"] = "no model package is installed"
        logger.warning("Identification unavailable: %s (run manage.py fetch_model)",
                       _state["error"])
        return None
    try:
        classifier = load_classifier(path, threads=settings.MODEL_THREADS or None,
                                     **decode_and_trust_settings(_state["decode_gate"]))
    except ClassifierError as exc:  # its checks, or the warm-up inference (load_classifier)
        _state["error"] = exc.message
        # For the public (/readyz): which check failed, without paths.
        _state["reason"] = (f"the model package failed its {exc.file} check"
                            if getattr(exc, "file", None) in (MODEL_FILE, MANIFEST,
                                                              SIGNATURE_FILE)
                            else "the model package failed to load")
        logger.error("Identification unavailable: the model at %s failed to load: %s",
                     path, exc.message)
        return None
    logger.info("Loaded model %s %s from %s (warm-up inference %.1f ms)", classifier.name,
                classifier.version, path, classifier.warm_up_ms)
    return classifier


def remote_classifier() -> RemoteClassifier:
    return RemoteClassifier(InferenceClient(
        settings.INFERENCE_URL, settings.MODEL_NAME,
        timeout=settings.INFERENCE_TIMEOUT, retries=settings.INFERENCE_RETRIES,
    ))


def decode_and_trust_settings(decode_gate: DecodeGate | None = None) -> dict:
    """load_classifier's keyword arguments from settings: the upload decoder's memory budget
    and gate (``decode_gate``, else a new one), and the keys the package must be signed by.
    Shared with serve_model, which so refuses to start on the same settings as the web
    process."""
    require_signature_policy()
    return {
        "trusted_keys": load_trusted_keys(settings.MODEL_TRUSTED_KEYS),
        "max_decode_bytes": _decode_budget(),
        "decode_gate": decode_gate or _new_decode_gate(),
    }


def upload_decode_limits() -> dict:
    """decode_image's limits for the uploads this process decodes besides the model's own (a
    photo kept with feedback, the page's thumbnail with a model service): identification's
    memory budget and the very same gate, so that these and identification's large decodes
    take turns (at most IDENTIFY_LARGE_DECODES at once in the process, model or not)."""
    load()
    return {"max_decode_bytes": _decode_budget(), "gate": _state["decode_gate"]}


def _decode_budget() -> int:
    return settings.IDENTIFY_DECODE_MEMORY_MB * 1024 * 1024


def _new_decode_gate() -> DecodeGate:
    return DecodeGate(settings.IDENTIFY_LARGE_DECODES, settings.IDENTIFY_DECODE_WAIT_SECONDS)


def get():
    """The loaded classifier, or ModelUnavailable (503) explaining why there is none."""
    classifier = load()
    if classifier is None:
        raise ModelUnavailable(
            "Photo identification is not available right now: no model is installed. "
            "Please try again later."
        )
    return classifier


def status() -> dict:
    """What /readyz and /version report. Loads the model if nobody has yet, but never waits
    for a load another thread has under way ("warming_up": its warm-up inference has not run);
    with a model service, its name, version and readiness (asked at most every few seconds).
    "challenger": the challenger's state when one is set (shadow.Shadow.status)."""
    if _state["loading"]:
        return {"loaded": False, "warming_up": True, "error": WARMING_UP, "reason": WARMING_UP}
    classifier = load()
    challenger = {"challenger": shadow.get().status()} if shadow.get().configured else {}
    if classifier is None:
        return {"loaded": False, "error": _state["error"], "reason": _state["reason"],
                **challenger}
    if isinstance(classifier, RemoteClassifier):
        return {**classifier.status(), "service": True, **challenger}
    return {"loaded": True, "name": classifier.name, "version": classifier.version,
            "warm_up_ms": classifier.warm_up_ms, **challenger}


def onnxruntime_version():
    try:
        return metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        return None
