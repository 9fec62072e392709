"""Django's upload handlers with larger chunks (settings.FILE_UPLOAD_HANDLERS).

Django parses a multipart body 64 KB at a time, and every chunk goes through several Python
generators (the boundary search, the handlers): for a 0.8 MB phone photo that was about 2.7 ms
of a 26 ms identification over gunicorn (py-spy, docs/performance.md). In 1 MB chunks the same
body is parsed in a few steps. The memory held per request stays bounded by the chunk plus what
the memory handler keeps anyway (FILE_UPLOAD_MAX_MEMORY_SIZE); the limits on the body
(catsite/middleware.py) apply before any of it is read.
"""
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

CHUNK_BYTES = 1024 * 1024  # divisible by 4, as Django asks


class MemoryFileUploadHandler1MB(MemoryFileUploadHandler):
    chunk_size = CHUNK_BYTES


class TemporaryFileUploadHandler1MB(TemporaryFileUploadHandler):
    chunk_size = CHUNK_BYTES
