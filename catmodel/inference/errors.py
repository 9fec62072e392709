"""The errors of identification, from decoding a photo up to the model's answer.

Each is a ``catmodel.errors.AppError``: a stable ``code`` for clients, the HTTP ``status`` the
web layer answers with (a plain int: this package never imports Django) and a ``message`` a
person can act on. The web layer maps them in one place (``core.http_errors``); bad input is
never a 500.
"""
from catmodel.errors import AppError

# The formats decode_image accepts, as users know them (the multi-picture JPEGs, MPO, that many
# phones write count as JPEG): what phones produce. BMP and TIFF are refused: no phone writes
# them, and their decoders (RLE, libtiff's many compressions and layouts) only add attack surface.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WebP", "GIF")


class ClassifierError(AppError):
    code = "classifier_error"
    status = 500
    default_message = "The photo could not be identified."


class InvalidImage(ClassifierError):
    """Empty, not an image at all, truncated or corrupt."""

    code = "invalid_image"
    status = 400
    default_message = (
        "The file is not a readable image: it may be empty, truncated or corrupt. "
        "Please upload a photo (" + ", ".join(ACCEPTED_FORMATS) + ")."
    )


class UnsupportedFormat(ClassifierError):
    """A real image, but in a format (or colour mode) we do not decode."""

    code = "unsupported_format"
    status = 415

    def __init__(self, found: str | None = None, message: str | None = None):
        self.found = found
        if message is None:
            what = f"{found} images are" if found else "This image format is"
            message = (
                f"{what} not supported. Please upload a photo in one of these formats: "
                + ", ".join(ACCEPTED_FORMATS) + "."
            )
        super().__init__(message)


class TooManyPixels(ClassifierError):
    """More pixels than we agree to decode (a decompression bomb, or simply a huge scan)."""

    code = "too_many_pixels"
    status = 413

    def __init__(self, width: int | None = None, height: int | None = None,
                 limit: int | None = None, kind: str | None = None):
        self.width, self.height, self.limit, self.kind = width, height, limit, kind
        if width and height and limit and kind:
            # The lower cap of images that cannot be decoded at reduced size (see decode_memory).
            message = (
                f"The image is {width} x {height} pixels, more than the "
                f"{_megapixels(limit)} megapixels accepted for {kind} images. "
                "Please upload a smaller photo, or a JPEG."
            )
        elif width and height and limit:
            message = (
                f"The image is {width} x {height} pixels, more than the "
                f"{_megapixels(limit)} megapixels accepted. Please upload a smaller photo."
            )
        else:
            message = "The image has too many pixels. Please upload a smaller photo."
        super().__init__(message)


class DecodeBudgetSpent(TooManyPixels):
    """Photos decoded together (one request of the model service) whose decodes would take
    more memory between them than one photo may (decode_memory.DecodeBudget)."""

    def __init__(self, limit_bytes: int):
        self.limit_bytes = limit_bytes
        ClassifierError.__init__(
            self, f"The photos sent together would take more than {limit_bytes // 2**20} MB "
                  "to decode. Please send fewer photos at a time, or smaller ones.")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}".removesuffix(".0")


class DecoderBusy(ClassifierError):
    """Every slot for large decodes in this process is taken (decode_memory.DecodeGate): the
    photo is fine, the server is busy with others like it."""

    code = "busy"
    status = 503

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            "Many large photos are being identified right now. Please try again in "
            f"{retry_after} second{'s' if retry_after != 1 else ''}, or send a smaller photo."
        )

    @property
    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


class FileTooLarge(ClassifierError):
    """The upload itself is too big; raised by the web layer before anything is decoded."""

    code = "file_too_large"
    status = 413

    def __init__(self, size: int | None = None, limit: int | None = None):
        self.size, self.limit = size, limit
        if limit:
            message = (
                f"The file is larger than the {limit / 2**20:g} MB accepted. "
                "Please upload a smaller photo."
            )
        else:
            message = "The file is too large. Please upload a smaller photo."
        super().__init__(message)


class ModelUnavailable(ClassifierError):
    """No model is loaded: nothing installed, or the installed package is unusable."""

    code = "model_unavailable"
    status = 503
    default_message = (
        "Photo identification is not available right now. Please try again later."
    )


class BadModelPackage(ModelUnavailable):
    """A model package that fails validation. The message names the file and the problem;
    it is meant for operators (logs, build_model, fetch_model), not for site visitors."""

    code = "bad_model_package"

    def __init__(self, file: str, problem: str):
        self.file, self.problem = file, problem
        super().__init__(f"{file}: {problem}")


class InferenceFailed(ClassifierError):
    """The model failed on an input that decoded fine: our fault, not the user's."""

    code = "inference_failed"
    status = 500
    default_message = "Something went wrong while identifying the photo. Please try again."
