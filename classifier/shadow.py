"""A challenger in the shadow: a sampled share of identifications is also scored by another
model (MODEL_CHALLENGER_DIR, installed like MODEL_DIR), off the response's path, and counted
as agreeing with the champion's answer or not (classifier/metrics.py). This is how a new model
earns trust on live traffic before the gate promotes it.

The visitor never waits: ``submit`` only copies the photo's bytes into a small queue, and one
background thread per process scores what is queued. That thread is the CPU budget: one
ONNX Runtime thread, at most ``QUEUE_SIZE`` photos waiting; when the queue is full (a busy
server) the photo is shed, counted, and nothing else happens. The challenger is loaded and
warmed up at start-up (``prepare``, from classifier.runtime.load, in each web process before it
takes traffic), so /readyz can wait for it and no photo pays its cold start; a process that
skipped that loads it on the first photo, in that thread, never on a request.
"""
from __future__ import annotations

import logging
import queue
import random
import threading

from django.conf import settings
from django.db import close_old_connections

from catmodel.inference import ClassifierError, load_classifier
from catmodel.inference.signatures import load_trusted_keys
from classifier import metrics
from classifier.answer import summarise, timings_ms

logger = logging.getLogger(__name__)

# Photos waiting for the challenger, per process: a few, so a burst is scored but a busy
# server sheds rather than piling up work (and up to this many uploads held in memory).
QUEUE_SIZE = 4


class Shadow:
    """The challenger, its queue and the thread that scores it."""

    def __init__(self, challenger_dir, rate: float, load=load_classifier, trusted_keys=()):
        self.challenger_dir = challenger_dir
        self.rate = rate
        self._load = load
        # The challenger runs in the web process like the champion: with trusted keys it must be
        # signed by one of them too (an unsigned ONNX file is code we would parse unchecked).
        self.trusted_keys = tuple(trusted_keys)
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._challenger = None
        self._failed = False
        self._error: str | None = None  # why the challenger did not load (logged too)
        self._load_lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.challenger_dir) and self.rate > 0 and not self._failed

    @property
    def configured(self) -> bool:
        """A challenger is set (MODEL_CHALLENGER_DIR with a MODEL_SHADOW_RATE above 0), whether
        or not it loaded."""
        return bool(self.challenger_dir) and self.rate > 0

    def prepare(self) -> None:
        """Load and warm up the challenger now, when one is set (load_classifier runs its
        warm-up inference). A failure turns shadow scoring off and is told by ``status``."""
        if self.configured:
            self._challenger_model()

    def status(self) -> dict | None:
        """None without a challenger set; else whether it is loaded and warmed up, its version,
        or why not: what /readyz reports."""
        if not self.configured:
            return None
        challenger = self._challenger
        if challenger is not None:
            return {"loaded": True, "name": challenger.name, "version": challenger.version}
        return {"loaded": False,
                "error": self._error or "the challenger has not been loaded yet"}

    def submit(self, upload, answer) -> bool:
        """Maybe queue this photo for the challenger; True when queued. Never blocks."""
        if not self.enabled or random.random() >= self.rate:
            return False
        upload.seek(0)
        job = (upload.read(), answer.answer_key)
        self._ensure_thread()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            metrics.count_shadow_shed()
            return False
        return True

    def join(self) -> None:
        """Wait until every queued photo was scored (tests, and a graceful stop)."""
        self._queue.join()

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shadow-challenger",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            data, champion_answer = self._queue.get()
            try:
                self._score(data, champion_answer)
            except Exception:  # a bad challenger must never take the site down
                logger.exception("The challenger failed on a photo")
            finally:
                close_old_connections()  # this thread's database connection, like a request's
                self._queue.task_done()

    def _challenger_model(self):
        with self._load_lock:  # start-up's prepare and the scoring thread
            if self._challenger is None and not self._failed:
                self._challenger = self._load_challenger()
            return self._challenger

    def _load_challenger(self):
        try:
            challenger = self._load(self.challenger_dir / "current", threads=1,
                                    trusted_keys=self.trusted_keys)
        except ClassifierError as error:
            self._failed = True  # stops sampling: nothing to compare with
            self._error = error.message
            logger.error("Shadow scoring off: the challenger at %s failed to load: %s",
                         self.challenger_dir, error.message)
            return None
        logger.info("Challenger %s %s loaded for shadow scoring (warm-up inference %s ms)",
                    challenger.name, challenger.version,
                    getattr(challenger, "warm_up_ms", None))
        return challenger

    def _score(self, data: bytes, champion_answer: str) -> None:
        challenger = self._challenger_model()
        if challenger is None:
            return
        try:
            result = challenger.classify(data)
        except ClassifierError:
            return  # a photo the challenger cannot read says nothing about agreement
        answer = summarise(result, timings_ms(result))
        metrics.count_shadow(challenger.version, answer.answer_key == champion_answer)


_shadow: Shadow | None = None
_shadow_lock = threading.Lock()


def get() -> Shadow:
    """This process's shadow (configured from the settings on first use)."""
    global _shadow
    with _shadow_lock:
        if _shadow is None:
            _shadow = Shadow(settings.MODEL_CHALLENGER_DIR, settings.MODEL_SHADOW_RATE,
                             trusted_keys=load_trusted_keys(settings.MODEL_TRUSTED_KEYS))
        return _shadow
