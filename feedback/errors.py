"""What can go wrong with feedback, each an AppError with its HTTP status and a one-line message
that says what to do."""
from core.errors import AppError


class IdentificationNotFound(AppError):
    code = "identification_not_found"
    status = 404
    default_message = ("This identification is unknown or has expired. Identify the photo again "
                       "to give feedback on it.")


class FeedbackAlreadyGiven(AppError):
    code = "feedback_exists"
    status = 409
    default_message = "Feedback on this identification has already been given. Thank you."


class FeedbackWithdrawn(AppError):
    code = "feedback_withdrawn"
    status = 410
    default_message = ("The feedback on this identification was withdrawn and cannot be given "
                       "again. Identify the photo again to give new feedback.")


class InvalidFeedback(AppError):
    """A verdict that is incomplete or contradicts itself or the answer."""

    code = "invalid_feedback"
    status = 400


class UnknownSpecies(AppError):
    code = "unknown_species"
    status = 400

    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(f"There is no species or breed '{slug}' in the encyclopedia. "
                         "Use the slug of an entry (as in /species/<slug>/), or not_a_cat.")


class PhotoMissing(AppError):
    code = "photo_missing"
    status = 400
    default_message = ("To share the photo, send the same photo again in the 'image' field, or "
                       "leave share_photo off.")


class PhotoMismatch(AppError):
    code = "photo_mismatch"
    status = 400
    default_message = ("This is not the photo that was identified. Send exactly the same file "
                       "again, or leave share_photo off.")
