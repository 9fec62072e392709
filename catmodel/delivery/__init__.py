"""Model delivery: publish a package to a model store, fetch and install it where the app loads it.

    publish.publish_package(store, package_dir)         -> <prefix>/<name>/<version>/, <name>/latest
    fetch.fetch_model(store, name, dest, version=...)   -> dest/versions/<version>, dest/current
    stores.store_from_settings(settings)                -> the Azure Blob or local-directory store

The management commands publish_model and fetch_model are thin wrappers around these. Every
failure is an errors.DeliveryError whose message is one line saying what went wrong and what
to do. Nothing is imported here: settings.LOGGING loads errors.RedactSecrets at start-up, and
that must not pull in ONNX Runtime and the Azure SDK.
"""
