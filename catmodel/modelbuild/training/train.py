"""The training loop: a frozen EfficientNet-Lite0 (optionally its last blocks fine-tuned), a new
head, augmented photos, AdamW, a fixed number of epochs; the last epoch's weights are the model
(no early stopping: the same seed and data always give the same model).

Deterministic with a seed: Python's, NumPy's and torch's generators are seeded, torch runs its
deterministic algorithms, and photos are visited in a seeded order. (Other thread counts or
library versions may change the last bits of the arithmetic.)
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from catmodel.evaluation import Dataset
from catmodel.inference import InputSpec

from ..efficientnet_lite import load_pretrained
from . import augment
from .data import Targets
from .features import FrozenFeatures
from .network import TransferNet, allowed_set_loss

Reporter = Callable[[str], None]
_CHUNK = 64  # photos turned into network inputs at a time (bounds memory on large datasets)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 10
    seed: int = 0
    batch_size: int = 16
    learning_rate: float = 0.01        # the new head's; fine-tuned blocks get a tenth of it
    weight_decay: float = 1e-4
    fine_tune_blocks: int = 0
    threads: int | None = None         # torch and ONNX Runtime threads (None: their default)

    def as_dict(self) -> dict:
        settings = asdict(self)
        settings.pop("threads")  # how fast, not what: not part of the lineage
        return settings


@dataclass
class Trained:
    net: TransferNet
    history: list[dict] = field(default_factory=list)


def train(dataset: Dataset, targets: Targets, base_labels_count: int, spec: InputSpec,
          config: TrainingConfig, report: Reporter) -> Trained:
    with _seeded(config):
        return _train(dataset, targets, base_labels_count, spec, config, report)


def _train(dataset: Dataset, targets: Targets, base_labels_count: int, spec: InputSpec,
           config: TrainingConfig, report: Reporter) -> Trained:
    new_labels = len(targets.model_labels) - base_labels_count
    net = TransferNet(load_pretrained(), new_labels, config.fine_tune_blocks)
    frozen = FrozenFeatures(net, config.threads)
    optimizer = torch.optim.AdamW(
        [{"params": net.new_head.parameters(), "lr": config.learning_rate},
         {"params": net.trainable_backbone_parameters(), "lr": config.learning_rate / 10}],
        weight_decay=config.weight_decay,
    )
    train_set, validation_set = dataset.split("train"), dataset.split("validation")
    report(f"Training on {len(train_set)} photo(s), validating on {len(validation_set)}: "
           f"{new_labels} new label(s), {config.epochs} epoch(s), seed {config.seed}")
    train_photos = [augment.load_photo(dataset.read(example)) for example in train_set]
    train_allowed = torch.from_numpy(targets.mask([e.label for e in train_set]))
    validation = None
    if validation_set:
        photos = [augment.load_photo(dataset.read(example)) for example in validation_set]
        validation = (torch.cat([frozen(augment.plain_batch(photos[i:i + _CHUNK], spec))
                                 for i in range(0, len(photos), _CHUNK)]),
                      torch.from_numpy(targets.mask([e.label for e in validation_set])))
    if net.training:
        raise AssertionError("the network must stay in eval mode (batch norm statistics frozen)")
    trained = Trained(net)
    for epoch in range(1, config.epochs + 1):
        started = time.monotonic()
        inputs = torch.cat([frozen(augment.augmented_batch(train_photos[i:i + _CHUNK], spec))
                            for i in range(0, len(train_photos), _CHUNK)])
        losses, hits = [], 0
        for batch in torch.randperm(len(train_set)).split(config.batch_size):
            logits = net.trainable(inputs[batch])
            loss = allowed_set_loss(logits, train_allowed[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item() * len(batch))
            hits += _hits(logits.detach(), train_allowed[batch])
        entry = {"epoch": epoch, "loss": sum(losses) / len(train_set),
                 "accuracy": hits / len(train_set)}
        if validation is not None:
            with torch.no_grad():
                logits = net.trainable(validation[0])
                entry["validation_loss"] = allowed_set_loss(logits, validation[1]).item()
                entry["validation_accuracy"] = _hits(logits, validation[1]) / len(validation[1])
        trained.history.append(entry)
        report(_progress(entry, config.epochs, len(validation_set), time.monotonic() - started))
    return trained


@contextmanager
def _seeded(config: TrainingConfig):
    """Seeded generators and deterministic algorithms for the training; torch's process-wide
    setting is put back afterwards (a test process or a notebook goes on with its own)."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)


@contextmanager
def torch_threads(threads: int | None):
    """torch's intra-op threads for the duration (None: leave them); put back afterwards. On a
    busy machine one thread ran the network 3 times faster than two fighting for the cores."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _hits(logits: torch.Tensor, allowed: torch.Tensor) -> int:
    """Photos whose most probable label is one of their allowed labels."""
    best = logits.argmax(dim=1)
    return int(allowed[torch.arange(len(best)), best].sum())


def _progress(entry: Mapping, epochs: int, validation_count: int, seconds: float) -> str:
    line = (f"epoch {entry['epoch']}/{epochs}: loss {entry['loss']:.3f}, train accuracy "
            f"{entry['accuracy']:.0%}")
    if "validation_loss" in entry:
        line += (f", validation loss {entry['validation_loss']:.3f}, accuracy "
                 f"{entry['validation_accuracy']:.0%} ({validation_count} photos)")
    return f"{line} ({seconds:.1f} s)"
