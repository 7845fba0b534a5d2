"""Train a ResNet on CIFAR-10 with MXNet Gluon: the workload every kubetune example tunes.

It reproduces the training job of the reference experiment (ResNet-34 v1, SGD, mini-batch 1024,
50 epochs; tuned: learning_rate, momentum, wd). The operator appends each hyperparameter to the
container's arguments as ``--name value`` and scrapes the objective from the log with the regex
``validation: accuracy=([0-9\\.]+)``, so this script:

- accepts exactly the hyperparameters it understands and rejects any other argument (exit 2),
  because a silently ignored hyperparameter would make a tuner learn from noise;
- prints one line per epoch whose only ``validation: accuracy=`` field is at its end;
- exits non-zero when the loss diverges, so the trial is recorded as failed rather than scored.

``--dataset digits`` (scikit-learn's bundled handwritten digits, upscaled to 32x32 colour) gives real
learning in seconds on a CPU without any download; ``--dataset synthetic`` measures throughput only.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from mxnet.gluon.model_zoo.vision import get_resnet
from mxnet.gluon.model_zoo.vision.resnet import BasicBlockV1, ResNetV1

NUM_CLASSES = 10
IMAGE_SIZE = 32
# Per-channel statistics of the CIFAR-10 training set, the usual normalisation for this data.
CIFAR10_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32).reshape(1, 3, 1, 1)
CIFAR10_STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32).reshape(1, 3, 1, 1)
CROP_PADDING = 4
# The digits split is fixed (not tied to --seed) so that trials with different seeds are scored
# on the same validation images.
DIGITS_SPLIT_SEED = 0
DIGITS_VALIDATION_FRACTION = 0.25
SYNTHETIC_TRAIN_BATCHES = 8


def resnet8() -> gluon.HybridBlock:
    """A CIFAR-style ResNet-8 (three stages of one basic block): small enough for CPU tests."""
    return ResNetV1(BasicBlockV1, [1, 1, 1], [16, 16, 32, 64], classes=NUM_CLASSES, thumbnail=True)


NETWORKS: dict[str, Callable[[], gluon.HybridBlock]] = {
    # thumbnail=True swaps ImageNet's 7x7/stride-2 stem and max-pool for one 3x3 convolution,
    # which is how ResNets are built for 32x32 inputs.
    "resnet34": lambda: get_resnet(1, 34, thumbnail=True, classes=NUM_CLASSES),
    "resnet18": lambda: get_resnet(1, 18, thumbnail=True, classes=NUM_CLASSES),
    "resnet8": resnet8,
}


@dataclass(frozen=True)
class Splits:
    """Training and validation sets as float32 NCHW images and integer labels.

    ``augment`` maps each training batch to an augmented copy. It runs on whole batches in the main
    process: vectorised, it costs milliseconds per batch, and it draws from NumPy's seeded generator.
    """

    train: gluon.data.Dataset
    validation: gluon.data.Dataset
    augment: Callable[[np.ndarray], np.ndarray] | None = None


def positive_float(text: str) -> float:
    """argparse type for a strictly positive, finite float."""
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type for a finite float >= 0."""
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type for an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; unknown arguments are an error (exit 2) naming them."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        allow_abbrev=False,  # a misspelt hyperparameter must not silently match another one
    )
    tuned = parser.add_argument_group("hyperparameters (names as the operator passes them)")
    tuned.add_argument("--learning_rate", type=positive_float, default=0.01)
    tuned.add_argument("--momentum", type=non_negative_float, default=0.0)
    tuned.add_argument("--wd", type=non_negative_float, default=0.0, help="weight decay")
    tuned.add_argument("--batch_size", type=positive_int, default=1024,
                       help="global mini-batch, split across all GPUs")
    tuned.add_argument("--epochs", type=positive_int, default=50)
    parser.add_argument("--network", choices=sorted(NETWORKS), default="resnet34")
    parser.add_argument("--dataset", choices=("cifar10", "digits", "synthetic"), default="cifar10")
    parser.add_argument("--data-dir", default=os.path.join(mx.base.data_dir(), "datasets", "cifar10"),
                        help="holds CIFAR-10's data_batch_{1..5}.bin and test_batch.bin "
                             "(downloaded there when missing)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.momentum >= 1:
        parser.error(f"argument --momentum: must be < 1, got {args.momentum}")
    return args


def seed_everything(seed: int) -> None:
    """Seed every random source the run draws from: initialisation, shuffling, augmentation."""
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def contexts() -> list[mx.Context]:
    """All visible GPUs (data parallel), or the CPU when there is none."""
    num_gpus = mx.context.num_gpus()
    return [mx.gpu(i) for i in range(num_gpus)] if num_gpus else [mx.cpu()]


def random_crop_and_flip(images: np.ndarray) -> np.ndarray:
    """The standard CIFAR-10 augmentation of an NCHW batch: pad by 4 (reflecting), crop 32x32 at
    a random offset per image, and flip half of the images horizontally."""
    count, pad = len(images), CROP_PADDING
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (IMAGE_SIZE, IMAGE_SIZE), axis=(2, 3))
    top, left = np.random.randint(0, 2 * pad + 1, size=(2, count))
    crops = windows[np.arange(count), :, top, left]  # (count, C, 32, 32), a copy
    flip = np.random.rand(count) < 0.5
    crops[flip] = crops[flip, :, :, ::-1]
    return crops


def load_cifar10(data_dir: str) -> Splits:
    """CIFAR-10 through Gluon's loader: 50k augmented training images, the 10k test set to validate."""

    def arrays(train: bool) -> tuple[np.ndarray, np.ndarray]:
        try:
            images, labels = gluon.data.vision.CIFAR10(root=data_dir, train=train)[:]
        except OSError as error:  # includes the download's connection errors
            sys.exit(f"error: CIFAR-10 is not in --data-dir {data_dir} and could not be "
                     f"downloaded ({error}); put data_batch_1.bin ... data_batch_5.bin and "
                     f"test_batch.bin there")
        chw = images.asnumpy().transpose(0, 3, 1, 2).astype(np.float32) / 255
        return (chw - CIFAR10_MEAN) / CIFAR10_STD, labels

    return Splits(train=gluon.data.ArrayDataset(*arrays(train=True)),
                  validation=gluon.data.ArrayDataset(*arrays(train=False)),
                  augment=random_crop_and_flip)


def load_digits() -> Splits:
    """scikit-learn's 1,797 8x8 grey digits, upscaled to 32x32x3 and split 75/25, stratified.

    The data ships inside scikit-learn, so this runs offline; no augmentation (a flipped digit is
    another digit).
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    scale = IMAGE_SIZE // digits.images.shape[1]
    images = digits.images.astype(np.float32).repeat(scale, axis=1).repeat(scale, axis=2)
    images = np.repeat(images[:, np.newaxis], 3, axis=1)  # grey -> 3 channels, NCHW
    labels = digits.target.astype(np.int32)
    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=DIGITS_VALIDATION_FRACTION, stratify=labels,
        random_state=DIGITS_SPLIT_SEED)
    mean, std = x_train.mean(), x_train.std()
    return Splits(train=gluon.data.ArrayDataset((x_train - mean) / std, y_train),
                  validation=gluon.data.ArrayDataset((x_val - mean) / std, y_val))


def load_synthetic(batch_size: int) -> Splits:
    """Random images and labels, for throughput measurements only (accuracy stays at chance)."""

    def arrays(count: int) -> tuple[np.ndarray, np.ndarray]:
        images = np.random.standard_normal((count, 3, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)
        return images, np.random.randint(0, NUM_CLASSES, size=count).astype(np.int32)

    return Splits(train=gluon.data.ArrayDataset(*arrays(SYNTHETIC_TRAIN_BATCHES * batch_size)),
                  validation=gluon.data.ArrayDataset(*arrays(batch_size)))


def load_data(args: argparse.Namespace) -> Splits:
    """The splits named by --dataset."""
    if args.dataset == "cifar10":
        return load_cifar10(args.data_dir)
    if args.dataset == "digits":
        return load_digits()
    return load_synthetic(args.batch_size)


def training_loader(splits: Splits, batch_size: int) -> gluon.data.DataLoader:
    """Shuffled training batches, augmented when the data set asks for it.

    'discard' keeps every batch the same shape: a smaller last batch would be noisier and would make
    the hybridized graph re-plan.
    """

    def batchify(samples: list[tuple[np.ndarray, np.int32]]) -> tuple[mx.nd.NDArray, mx.nd.NDArray]:
        images, labels = (np.stack(column) for column in zip(*samples, strict=True))
        if splits.augment is not None:
            images = splits.augment(images)
        return mx.nd.array(images), mx.nd.array(labels)

    return gluon.data.DataLoader(splits.train, batch_size=batch_size, shuffle=True,
                                 last_batch="discard", batchify_fn=batchify)


def evaluate(net: gluon.HybridBlock, loader: gluon.data.DataLoader, ctx: list[mx.Context]) -> float:
    """Top-1 accuracy of ``net`` over ``loader``."""
    metric = mx.metric.Accuracy()
    for data, label in loader:
        parts = gluon.utils.split_and_load(data, ctx, even_split=False)
        labels = gluon.utils.split_and_load(label, ctx, even_split=False)
        metric.update(labels, [net(x) for x in parts])
    return metric.get()[1]


def train(args: argparse.Namespace) -> None:
    """Train for args.epochs, printing one parsable line per epoch; exit 1 on a diverged loss."""
    seed_everything(args.seed)
    ctx = contexts()
    splits = load_data(args)
    train_loader = training_loader(splits, args.batch_size)
    val_loader = gluon.data.DataLoader(splits.validation, batch_size=args.batch_size,
                                       last_batch="keep")
    if len(train_loader) == 0:
        sys.exit(f"error: --batch_size {args.batch_size} is larger than the "
                 f"{len(splits.train)} training images")

    net = NETWORKS[args.network]()
    net.initialize(mx.init.Xavier(magnitude=2), ctx=ctx)
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {
        "learning_rate": args.learning_rate, "momentum": args.momentum, "wd": args.wd})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    print(f"training {args.network} on {args.dataset} ({len(splits.train)} train / "
          f"{len(splits.validation)} validation images) on {', '.join(map(str, ctx))}: "
          f"learning_rate={args.learning_rate} momentum={args.momentum} wd={args.wd} "
          f"batch_size={args.batch_size} epochs={args.epochs} seed={args.seed}", flush=True)

    for epoch in range(1, args.epochs + 1):
        start = time.time()
        loss_sum, seen = 0.0, 0
        for batch, (data, label) in enumerate(train_loader, start=1):
            parts = gluon.utils.split_and_load(data, ctx, even_split=False)
            labels = gluon.utils.split_and_load(label, ctx, even_split=False)
            with autograd.record():
                losses = [loss_fn(net(x), y) for x, y in zip(parts, labels, strict=True)]
            for loss in losses:
                loss.backward()
            trainer.step(data.shape[0])
            # Checked every batch, so a diverged trial stops at once instead of burning its epochs.
            batch_loss = sum(loss.sum().asscalar() for loss in losses)
            if not math.isfinite(batch_loss):
                sys.exit(f"error: training diverged: loss is {batch_loss} at epoch {epoch}, "
                         f"batch {batch} (learning_rate={args.learning_rate}, "
                         f"momentum={args.momentum}, wd={args.wd})")
            loss_sum += batch_loss
            seen += data.shape[0]
        elapsed = time.time() - start
        accuracy = evaluate(net, val_loader, ctx)
        # The objective regex's field comes last and appears once, so a greedy or a last-match
        # scraper reads the same number.
        print(f"epoch={epoch} train: loss={loss_sum / seen:.4f} "
              f"throughput={seen / elapsed:.1f} images/s time={elapsed:.1f}s "
              f"validation: accuracy={accuracy:.4f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: parse the hyperparameters and train."""
    train(parse_args(argv))


if __name__ == "__main__":
    main()
