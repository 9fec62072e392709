"""Errors of model building. Each one is a single line that says what went wrong and what to do;
``manage.py build_model`` prints it and exits non-zero, without a traceback."""
from catmodel.errors import AppError


class ModelBuildError(AppError):
    """Building a package failed; nothing was written (the target is as it was)."""

    code = "model_build_failed"
    status = 500
    default_message = "Building the model package failed; nothing was written."


class BuildCheckFailed(ModelBuildError):
    """The built model failed its parity or sanity check; the package must not be written."""

    code = "model_check_failed"


class PackageExistsError(ModelBuildError):
    """The target directory already holds something that this build must not replace."""

    code = "package_exists"


class BuildRequirementsMissing(ModelBuildError):
    """The model-building libraries (the build role) are not installed here."""

    code = "build_requirements_missing"
