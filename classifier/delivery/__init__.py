"""Model delivery: publish a package to a model store, fetch and install it where the app loads it.

    publish_package(store, package_dir)           -> <prefix>/<name>/<version>/ and <name>/latest
    fetch_model(store, name, dest, version=...)   -> dest/versions/<version>, dest/current switched
    store_from_settings(settings)                 -> the Azure Blob or local-directory store

The management commands publish_model and fetch_model are thin wrappers around these. Every
failure is a DeliveryError whose message is one line saying what went wrong and what to do.
"""
from classifier.delivery.errors import DeliveryError
from classifier.delivery.fetch import FetchResult, fetch_model
from classifier.delivery.publish import PublishResult, publish_package
from classifier.delivery.stores import Store, store_from_settings

__all__ = [
    "DeliveryError",
    "FetchResult",
    "PublishResult",
    "Store",
    "fetch_model",
    "publish_package",
    "store_from_settings",
]
