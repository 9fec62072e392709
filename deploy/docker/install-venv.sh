#!/bin/sh
# Image build only: create /venv from a role's lock (requirements/<role>.txt) with the wheels in
# /wheels and no network. The lock carries hashes, so pip checks every wheel against them.
# What the image never reads is left out (the web image's goal is 450 MB; measured sizes in
# docs/deploying.md):
#   - bytecode: --no-compile (~100 MB); deploy/docker/compile-app.sh compiles what starting
#     the site imports into PYTHONPYCACHEPREFIX, a layer of its own, the rest compiles on use;
#   - the installers, the libraries' own test suites, translation sources (.po: Django reads
#     only the compiled .mo), type stubs;
#   - Django's catalogs for languages other than English: the site speaks LANGUAGE_CODE en-gb
#     and activates no other (no LocaleMiddleware) (~30 MB);
#   - ONNX Runtime's model-conversion tools (transformers, quantization, tools): used when
#     building a model (the build role), never when serving one; numpy's Fortran wrapper
#     generator (f2py) and C headers and sources: for building extensions; GeoDjango
#     (django.contrib.gis), an app the site does not install;
#   - the Django apps' static files: collectstatic (compile-app.sh) copies them into
#     /app/staticfiles, which whitenoise serves. They wait in /venv-static for it, a folder the
#     images do not copy.
# Usage: install-venv.sh LOCK
set -eu
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
python3 -m venv /venv
/venv/bin/pip install --no-compile --no-index --find-links /wheels --require-hashes -r "$1"
/venv/bin/pip check
/venv/bin/pip uninstall -q -y pip setuptools
site=$(echo /venv/lib/python3*/site-packages)
find "$site" -depth -type d -name tests -exec rm -rf {} +
find "$site" \( -name '*.po' -o -name '*.pyi' -o -name '*.h' -o -name '*.c' -o -name '*.cpp' \
    -o -name '*.pxd' \) -type f -delete
find "$site/django" -type d -path '*/locale/*' -prune ! -name en ! -name en_GB -exec rm -rf {} +
rm -rf "$site/onnxruntime/transformers" "$site/onnxruntime/quantization" "$site/onnxruntime/tools" \
    "$site/numpy/f2py" "$site/django/contrib/gis"
find "$site" -type d -name static -prune | while read -r static; do
    if [ -f "$(dirname "$static")/apps.py" ]; then
        mkdir -p "/venv-static$(dirname "$static")"
        mv "$static" "/venv-static$static"
    fi
done
