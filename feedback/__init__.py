"""Feedback on identifications: visitors confirm or correct an answer and may share the photo;
editors review the shared photos in admin; ``export_dataset`` turns the accepted ones into a
dataset a training script reads without Django.

    identification  POST /api/classify/ (or the identify page) records an Identification: a
                    random id, the photo's sha256 (never the photo), the model and the answer
    feedback        POST /api/identifications/<id>/feedback/ (or the page form): the verdict,
                    and the photo again only with consent and only if its hash matches
    review          admin: pending -> accepted / rejected (a verdict without a photo, or
                    whose photo the retention purge took, is no_photo: nothing to review)
    export          manage.py export_dataset --out DIR
"""
