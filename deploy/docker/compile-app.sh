#!/bin/sh
# Image build only, in /app with a role's /venv (deploy/docker/install-venv.sh): the code as the
# image runs it. Usage: compile-app.sh web|model
#   - var/ (models, wheelhouse, local database) is not code: the model is copied on its own;
#     the locks (requirements/) are installed in the venv already;
#   - static files collected into /app/staticfiles, with a throwaway key (collectstatic needs
#     settings, not secrets), the libraries' from /venv-static (install-venv.sh); source maps
#     left out: only a browser's developer tools fetch them (~17 MB, Swagger UI's and Redoc's);
#   - bytecode into PYTHONPYCACHEPREFIX (/pycache, a layer apart from the venv's, so the venv
#     layer changes with the lock only): all of the code, and every module of the libraries
#     that starting the role imports (Django's checks, gunicorn or KServe, ONNX Runtime,
#     signature checks); what is imported later compiles when first used.
set -eu
role="$1"
export PYTHONPYCACHEPREFIX=/pycache DJANGO_SECRET_KEY=image-build-only-not-a-secret \
    CATSITE_VAR_DIR=/tmp/var
unset PYTHONDONTWRITEBYTECODE
rm -rf var requirements
if [ -d /venv-static ]; then cp -a /venv-static/venv/. /venv/; fi
STATIC_ROOT=/app/staticfiles /venv/bin/python manage.py collectstatic --noinput --verbosity 0
find /app/staticfiles -type f \( -name '*.map' -o -name '*.map.gz' -o -name '*.map.br' \) -delete
/venv/bin/python -m compileall -q -j 0 /app >/dev/null
/venv/bin/python manage.py check >/dev/null
/venv/bin/python -c 'import gunicorn.app.wsgiapp, numpy, onnxruntime, PIL.Image, model_signing.verifying'
if [ "$role" = model ]; then /venv/bin/python -c 'import kserve'; fi
