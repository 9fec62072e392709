"""The training loop: a frozen EfficientNet-Lite0 (optionally its last blocks fine-tuned), a new
head, augmented photos, AdamW, a fixed number of epochs; the last epoch's weights are the model
(no early stopping: the same seed and data always give the same model).

Deterministic with a seed: Python's, NumPy's and torch's generators are seeded, torch runs its
deterministic algorithms, and photos are visited in a seeded order. (Other thread counts or
library versions may change the last bits of the arithmetic, and so does a GPU.)

Photos are decoded and augmented by DataLoader workers, one per available CPU (catmodel/
cpus.py), while the main process runs the network. Each photo's augmentation of each epoch
draws from a generator of its own, seeded from (seed, epoch, photo), so the crops do not depend
on which worker made them or on how many there are: the same seed gives the same bytes on any
number of cores. The trainable part runs on ``device`` (``cuda`` when asked); the frozen part
is ONNX Runtime's on the CPU (features.py).
"""
from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from catmodel.cpus import available_cpus
from catmodel.evaluation import Dataset
from catmodel.inference import InputSpec

from ..efficientnet_lite import load_pretrained
from ..errors import ModelBuildError
from . import augment
from .data import Targets
from .features import FrozenFeatures
from .network import TransferNet, allowed_set_loss

Reporter = Callable[[str], None]
EpochHook = Callable[[dict], None]
# Photos a worker decodes or augments at a time: small enough that a few dozen photos keep every
# worker busy, and what the frozen part runs at once (features.BATCH).
_CHUNK = 16
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 10
    seed: int = 0
    batch_size: int = 16
    learning_rate: float = 0.01        # the new head's; fine-tuned blocks get a tenth of it
    weight_decay: float = 1e-4
    fine_tune_blocks: int = 0
    device: str = "cpu"                # where the trainable part runs: cpu or cuda
    threads: int | None = None         # torch and ONNX Runtime threads (None: their default)
    workers: int | None = None         # photo loading processes (None: one per available CPU)

    def as_dict(self) -> dict:
        settings = asdict(self)
        for key in ("threads", "workers"):  # how fast, not what: not part of the lineage
            settings.pop(key)
        return settings


def resolve_device(choice: str) -> str:
    """``auto``: cuda when PyTorch sees a GPU, else cpu. ``cuda`` without one is a one-line
    ModelBuildError."""
    if choice not in DEVICES:
        raise ModelBuildError(f"unknown device {choice!r}: choose one of {', '.join(DEVICES)}")
    seen = torch.cuda.is_available()
    if choice == "auto":
        return "cuda" if seen else "cpu"
    if choice == "cuda" and not seen:
        raise ModelBuildError("--device cuda, but PyTorch sees no GPU here (torch.cuda."
                              "is_available() is False): train with --device cpu (or auto), or "
                              "install a GPU driver and a CUDA build of torch")
    return choice


@dataclass
class Trained:
    net: TransferNet
    history: list[dict] = field(default_factory=list)


def train(dataset: Dataset, targets: Targets, base_labels_count: int, spec: InputSpec,
          config: TrainingConfig, report: Reporter, on_epoch: EpochHook | None = None) -> Trained:
    """Train; ``on_epoch`` gets each epoch's history entry as it ends (experiment tracking)."""
    if config.device == "cuda":
        # cuBLAS's deterministic mode (torch.use_deterministic_algorithms) needs a workspace
        # setting made before CUDA starts: https://docs.nvidia.com/cuda/cublas/#results-reproducibility
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    with _seeded(config):
        trained = _train(dataset, targets, base_labels_count, spec, config, report,
                         on_epoch or (lambda entry: None))
    trained.net.to("cpu")  # exported and parity-checked on the CPU
    return trained


def _train(dataset: Dataset, targets: Targets, base_labels_count: int, spec: InputSpec,
           config: TrainingConfig, report: Reporter, on_epoch: EpochHook) -> Trained:
    new_labels = len(targets.model_labels) - base_labels_count
    net = TransferNet(load_pretrained(), new_labels, config.fine_tune_blocks)
    frozen = FrozenFeatures(net, config.threads)  # exported on the CPU, before any move
    device = torch.device(config.device)
    net.to(device)
    optimizer = torch.optim.AdamW(
        [{"params": net.new_head.parameters(), "lr": config.learning_rate},
         {"params": net.trainable_backbone_parameters(), "lr": config.learning_rate / 10}],
        weight_decay=config.weight_decay,
    )
    train_set, validation_set = dataset.split("train"), dataset.split("validation")
    workers = available_cpus() if config.workers is None else config.workers
    report(f"Training on {len(train_set)} photo(s), validating on {len(validation_set)}: "
           f"{new_labels} new label(s), {config.epochs} epoch(s), seed {config.seed}, on "
           f"{config.device}, loading photos with {workers or 'no'} worker process(es)")
    train_photos = _decoded(dataset, train_set, workers)
    train_allowed = torch.from_numpy(targets.mask([e.label for e in train_set])).to(device)
    validation = None
    if validation_set:
        photos = _decoded(dataset, validation_set, workers)
        validation = (torch.cat([frozen(augment.plain_batch(photos[i:i + _CHUNK], spec))
                                 for i in range(0, len(photos), _CHUNK)]).to(device),
                      torch.from_numpy(targets.mask([e.label for e in validation_set])).to(device))
    if net.training:
        raise AssertionError("the network must stay in eval mode (batch norm statistics frozen)")
    trained = Trained(net)
    # One loader for every epoch: the workers start once, and make the next epoch's photos
    # while this one trains.
    augmented = _Augmented(train_photos, spec, config.seed, config.epochs)
    chunks = iter(_loader(augmented, workers, config.seed))
    for epoch in range(1, config.epochs + 1):
        started = time.monotonic()
        inputs = torch.cat([frozen(next(chunks).numpy())
                            for _ in range(augmented.chunks_per_epoch)]).to(device)
        losses, hits = [], 0
        for batch in torch.randperm(len(train_set)).split(config.batch_size):
            batch = batch.to(device)
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
        on_epoch(entry)
    return trained


# --- photo loading in worker processes ----------------------------------------------------------

class _Decoded(torch.utils.data.Dataset):
    """Chunk i of ``examples``: decoded photos at the working size (augment.load_photo)."""

    def __init__(self, dataset: Dataset, examples: list):
        self.dataset, self.examples = dataset, examples

    def __len__(self) -> int:
        return -(-len(self.examples) // _CHUNK)

    def __getitem__(self, index: int) -> list:
        chunk = self.examples[index * _CHUNK:(index + 1) * _CHUNK]
        return [augment.load_photo(self.dataset.read(example)) for example in chunk]


class _Augmented(torch.utils.data.Dataset):
    """Every epoch's augmented photos, epoch after epoch, in chunks of normalised NCHW float32.
    Photo j of epoch e is augmented from a generator seeded by (seed, e, j) alone, inside
    fork_rng: the result does not depend on the worker, on the number of workers, or on the
    main process's generator."""

    def __init__(self, photos: list, spec: InputSpec, seed: int, epochs: int):
        self.photos, self.spec, self.seed, self.epochs = photos, spec, seed, epochs
        self.chunks_per_epoch = -(-len(photos) // _CHUNK)

    def __len__(self) -> int:
        return self.epochs * self.chunks_per_epoch

    def __getitem__(self, index: int) -> torch.Tensor:
        epoch = index // self.chunks_per_epoch + 1
        start = index % self.chunks_per_epoch * _CHUNK
        arrays = []
        for offset, photo in enumerate(self.photos[start:start + _CHUNK]):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(_photo_seed(self.seed, epoch, start + offset))
                arrays.append(augment.augmented_batch([photo], self.spec))
        # A tensor crosses from the worker through shared memory (an array would be pickled).
        return torch.from_numpy(np.concatenate(arrays))


def _photo_seed(seed: int, epoch: int, photo: int) -> int:
    entropy = [seed & 0xFFFF_FFFF_FFFF_FFFF, epoch, photo]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0])


def _decoded(dataset: Dataset, examples: list, workers: int) -> list:
    return [photo for chunk in _loader(_Decoded(dataset, examples), workers, 0) for photo in chunk]


def _loader(chunks: _Decoded | _Augmented, workers: int, seed: int):
    """The chunks in order, made by ``workers`` processes (0: by this one; a single chunk is
    made here too, starting a worker costs more). The loader's own generator is a private one:
    the training's generator is not drawn from."""
    return torch.utils.data.DataLoader(
        chunks, batch_size=None, shuffle=False,
        num_workers=min(workers, len(chunks)) if len(chunks) > 1 else 0,
        collate_fn=_as_is, worker_init_fn=_worker_init,
        generator=torch.Generator().manual_seed(seed))


def _as_is(chunk):
    return chunk


def _worker_init(worker_id: int) -> None:
    # One thread each: the workers are the parallelism (and torch's threads, left at the
    # core count, would fight the main process's network for the cores).
    torch.set_num_threads(1)


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
