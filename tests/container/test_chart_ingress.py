"""The chart's ingress buffers request bodies (issue 24, item 8): slow uploads are held by
nginx, which passes each body on whole, instead of by gunicorn's threads (the app's own cap,
IDENTIFY_MAX_CONCURRENT, is tested under gunicorn in tests/load/test_slow_clients.py)."""
from tests.container.chart_support import CHART, one

BUFFERING = "nginx.ingress.kubernetes.io/proxy-request-buffering"
BODY_SIZE = "nginx.ingress.kubernetes.io/proxy-body-size"


def test_the_ingress_buffers_request_bodies(render):
    annotations = one(render("--set", "ingress.enabled=true"), "Ingress")["metadata"]["annotations"]
    assert annotations[BUFFERING] == "on"
    assert annotations[BODY_SIZE] == "21m"


def test_production_keeps_the_buffering_beside_its_own_annotations(render):
    objects = render("-f", str(CHART / "values-production.yaml"))
    annotations = one(objects, "Ingress")["metadata"]["annotations"]
    assert annotations[BUFFERING] == "on"
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt"
