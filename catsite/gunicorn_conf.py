"""gunicorn settings for catsite: `gunicorn -c python:catsite.gunicorn_conf catsite.wsgi`.

The one place for gunicorn's settings and their defaults: the image's start script
(deploy/docker/start.sh) runs gunicorn with this file, and the environment variables below
(PORT, WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_ACCESS_LOG) override them.
bench/run.py measured the choices below on a 2-core machine.
https://docs.gunicorn.org/en/stable/settings.html
"""
import ctypes
import glob
import os
import shutil
import socket
import tempfile

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads let one worker read the next upload while another thread is in ONNX Runtime or
# Pillow (both release the GIL). The model is loaded once per process and shared by threads.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Never preload: ONNX Runtime's thread pool does not survive fork(), so each worker loads the
# model itself (catsite/wsgi.py) after it has been forked.
preload_app = False
# The heartbeat file goes to shared memory: the root file system may be read-only, and a
# disk-backed /tmp can stall heartbeats (gunicorn's advice for containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No control socket: it would be written under the home directory (read-only or missing in the
# container, and shared by every gunicorn on a machine); Kubernetes manages the processes.
control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
if os.environ.get("LOG_FORMAT", "plain").lower() == "json":
    # Every line JSON (core/logs.py): gunicorn's own messages through the same formatter, and
    # no access log of its own (the app writes one line per answer, with its request id).
    accesslog = None
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logs.JsonFormatter"}},
        "handlers": {"error_console": {"class": "logging.StreamHandler", "formatter": "json",
                                       "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["error_console"],
                                       "propagate": False}},
        "root": {"level": "INFO", "handlers": []},
    }

# Web-server limits on the request head: gunicorn answers 400/431 before Django sees anything.
# (gunicorn does not bound the body: UPLOAD_MAX_BYTES is enforced by
# catsite.middleware.UploadSizeLimitMiddleware from Content-Length, before the body is read, and
# a chunked body without Content-Length reaches Django as an empty body.)
limit_request_line = 4094         # the longest URL with its query string
limit_request_fields = 50         # headers per request (default 100)
limit_request_field_size = 8190   # bytes in one header

# ONNX Runtime threads per worker. Its default (one per core in every worker) oversubscribes
# the CPU as soon as two workers infer at once. bench/run.py compares both on two servers
# taking turns (2 workers, 2 cores, 4 clients sending 12 MP photos): one thread a worker gave
# 26 vs 15 and 18 vs 17 identifications/s on a busy machine, never fewer; a lone client loses
# a few ms of inference. Divide the cores between the workers unless MODEL_THREADS is set.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
os.environ.setdefault("MODEL_THREADS", str(max(1, _cores // max(1, workers))))

# Identifications at once per worker (IDENTIFY_MAX_CONCURRENT, catsite/middleware.py): all the
# threads but one, so that slow uploads always leave a thread to pages and probes.
os.environ.setdefault("IDENTIFY_MAX_CONCURRENT", str(max(1, threads - 1)))


def _has_body(req) -> bool:
    return any(name == "TRANSFER-ENCODING" or (name == "CONTENT-LENGTH" and value.strip() != "0")
               for name, value in req.headers)


def pre_request(worker, req):
    # A request with a body is answered, then its connection closed rather than kept alive. The
    # app may leave a body unread (an identification refused because the cap is full, a 413):
    # to keep such a connection, gunicorn first drains the rest of the body, which holds the
    # thread for up to 5 s of a slow client each time. Uploads are rare beside page views; a
    # new connection costs little beside an identification.
    if _has_body(req):
        req.must_close = True


def post_request(worker, req, environ, resp):
    # ...and its reading side is shut once the answer is written. gunicorn closes a connection
    # "gracefully": it reads what the client still sends for up to 2 s, in the worker's main
    # thread, the one that accepts and dispatches every connection. Eight slow uploads refused
    # at once stalled the worker (and /healthz) for 12 s; with the read side shut the close
    # ends at once (the client has its answer: it was written before).
    sock = environ.get("gunicorn.socket") if environ else None
    if sock is not None and _has_body(req):
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:  # the client has gone already
            pass

# Large buffers (a decoded photo, libjpeg's coefficients, libwebp's canvases: megabytes each)
# go straight to mmap and back to the system when freed. By default glibc raises its mmap
# threshold after the first such free (up to 32 MB), so later photos come from per-thread
# arenas that keep their pages: one worker with 4 threads, sent hostile uploads that each decode
# within 170 MB one at a time, peaked at 586 MB and kept 436 MB; with these settings 378 MB and
# 210 MB (the 193 MB it started with, plus the model's warm buffers).
# Threshold and arena count are set in each worker (glibc reads its environment variables only
# when a process starts, before gunicorn forks).
MALLOC_MMAP_THRESHOLD_BYTES = 1024 * 1024
MALLOC_ARENAS = 2
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameters (malloc.h)


def post_fork(server, worker):
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        server.log.warning("not glibc: worker memory returns to the system only as the C "
                           "library decides")
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD_BYTES)
    libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


# The settings need to know whether a local-memory cache would be one of several (the page
# cache then stays off: an edit could not invalidate the other workers' copies).
os.environ["SERVER_WORKER_PROCESSES"] = str(workers)

# Prometheus metrics from every worker (core/metrics.py): each worker process writes its values
# to files in PROMETHEUS_MULTIPROC_DIR and a scrape of /metrics adds them up. Set here, in the
# master, before any worker imports prometheus_client. A folder of this server's own unless one
# is given (several servers may run on one machine); emptied at start, removed at exit when it
# is ours, and a dead worker's live gauges are dropped when it exits (its counts stay).
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(
        tempfile.gettempdir(), f"catsite-metrics-{os.getpid()}")


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(folder, "*.db")):  # a previous run's counts
        os.remove(stale)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
