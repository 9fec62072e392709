"""gunicorn settings for catsite: `gunicorn -c python:catsite.gunicorn_conf catsite.wsgi`.

The one place for gunicorn's settings and their defaults: the image's start script
(deploy/docker/start.sh) runs gunicorn with this file, and the environment variables below
(PORT, WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_ACCESS_LOG) override them.
bench/run.py measured the choices below on a 2-core machine.
https://docs.gunicorn.org/en/stable/settings.html
"""
import glob
import os
import shutil
import socket
import tempfile

from catmodel.cpus import available_cpus
from catmodel.malloc import return_large_buffers

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# The CPUs this container may use: its CPU quota (cgroup v2 cpu.max, v1 cpu.cfs_quota_us) when
# it has one, else the cores it may run on; never the node's core count (catmodel/cpus.py).
_cpus = available_cpus()
# A worker per CPU (2 on the bench's 2-core machine, the figures below), at most MAX_WORKERS:
# each worker holds its own copy of the model, and past that the CPUs go to ONNX Runtime's
# threads in each worker (MODEL_THREADS below) rather than to more copies.
MAX_WORKERS = 4
workers = int(os.environ.get("WEB_CONCURRENCY") or min(_cpus, MAX_WORKERS))
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
# a few ms of inference. Divide the CPUs between the workers unless MODEL_THREADS is set
# (0: every worker takes a thread per CPU, the comparison bench/run.py makes).
os.environ.setdefault("MODEL_THREADS", str(max(1, _cpus // max(1, workers))))

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

# Large buffers go straight to mmap and back to the system when freed (catmodel/malloc.py, the same
# settings as the model service's). Set in each worker: glibc reads its environment variables
# only when a process starts, before gunicorn forks.
def post_fork(server, worker):
    if not return_large_buffers():
        server.log.warning("not glibc: worker memory returns to the system only as the C "
                           "library decides")


# The settings need to know whether a local-memory cache would be one of several (the page
# cache then stays off: an edit could not invalidate the other workers' copies).
os.environ["SERVER_WORKER_PROCESSES"] = str(workers)

# Prometheus metrics from every worker (core/metrics.py): each worker process writes its values
# to files in PROMETHEUS_MULTIPROC_DIR and a scrape of METRICS_PORT (core/metrics_server.py,
# served by this master, never by the site's port) adds them up. Set here, in the master,
# before anything imports prometheus_client. A folder of this server's own unless one
# is given (several servers may run on one machine); emptied at start, removed at exit when it
# is ours, and a dead worker's live gauges are dropped when it exits (its counts stay).
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(
        tempfile.gettempdir(), f"catsite-metrics-{os.getpid()}")
# 0: no metrics port.
_METRICS_PORT = int(os.environ.get("METRICS_PORT", "9100"))


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    from core.metrics_server import PUBLISHED_FILE  # after PROMETHEUS_MULTIPROC_DIR is set

    # A previous run's counts, and the gauges it published (core/metrics_server.py).
    for stale in [*glob.glob(os.path.join(folder, "*.db")),
                  *glob.glob(os.path.join(folder, PUBLISHED_FILE))]:
        os.remove(stale)


def when_ready(server):
    if not _METRICS_PORT:
        return
    # Imported now, after PROMETHEUS_MULTIPROC_DIR is set: prometheus_client picks its mode
    # when first imported, and the workers inherit the module from this process.
    from core.metrics_server import serve_metrics

    # The address the site is bound to (0.0.0.0 in the container, 127.0.0.1 in tests).
    bound = server.cfg.bind[0]
    host = bound.rsplit(":", 1)[0].strip("[]") if not bound.startswith("unix:") else "0.0.0.0"
    serve_metrics(host or "0.0.0.0", _METRICS_PORT)
    server.log.info("Metrics on http://%s:%d/metrics", host, _METRICS_PORT)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
