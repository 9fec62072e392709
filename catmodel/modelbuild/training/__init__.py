"""Training a new model on an ``export_dataset`` folder: transfer learning from EfficientNet-Lite0
(``manage.py train_model``). Needs the model-building requirements (torch); the web site never
imports this package. A subpackage, so that changing it does not invalidate build_model's
cache (catmodel/modelbuild/cache.py keys on the modules directly in catmodel/modelbuild).
"""
