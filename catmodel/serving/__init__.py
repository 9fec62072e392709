"""The model as its own service, over the Open Inference Protocol v2 (KServe, Triton, MLServer).

    tensors.py  the tensor names and the binary encoding of BYTES tensors (both sides use them)
    model.py    catsite's model as a KServe custom model: photos or tensors in, probabilities out
    server.py   KServe's model server around it (``manage.py serve_model``)
    client.py   the web process's client (``INFERENCE_URL``): the standard library only

No Django here: ``manage.py serve_model`` reads the settings and calls ``server.serve``.
This package file imports nothing, so the client never pays for importing KServe.
"""
