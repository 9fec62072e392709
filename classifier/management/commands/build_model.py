"""manage.py build_model: turn the pretrained EfficientNet-Lite0 weights into a model package.

Writes ``model.onnx`` + ``manifest.json`` (docs/model-package.md) after checking ONNX Runtime
against PyTorch and the predictions on two real photos. Needs the model-building requirements
(the build role, ``requirements/build.txt``); torch is imported only when the command runs,
because the runtime image has no torch and Django may import every command module
(``manage.py help``).

    manage.py build_model --out DIR [--version 1.0.0] [--force] [--signing-key PATH]
    manage.py build_model --cached      # print the cached package's path, building it if needed
    manage.py build_model --out DIR --quantize int8    # opt-in: an int8 model (version 1.0.0-int8)

``--quantize int8`` (catmodel/modelbuild/quantize.py) builds the float32 model, checks it, then
quantizes it statically (int8 weights, uint8 activations, calibrated on scikit-image photos);
the package format is unchanged. Evaluate it (evaluate_model) before it replaces a float32
champion: publish_model's gate decides.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from catmodel.modelbuild.requirements import require_build_modules
from core.commands import PackageVersionCommand

DEFAULT_VERSION = "1.0.0"  # the same default as catmodel.modelbuild.build (which needs torch)
QUANTIZATIONS = ("int8",)  # catmodel.modelbuild.quantize.QUANTIZATIONS (that module needs onnx)


class Command(PackageVersionCommand):
    help = "Build the model package (model.onnx + manifest.json) from the pretrained weights."
    # Building touches neither the database nor the URLs: a data scientist's machine (or a
    # half-configured site) should not have to pass the site's system checks to build a model.
    requires_system_checks = ()

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, help="directory to write the package to")
        parser.add_argument("--version", "--model-version", dest="package_version",
                            default=None,
                            help=f"package version, [A-Za-z0-9._-]+ (default {DEFAULT_VERSION}; "
                                 f"{DEFAULT_VERSION}-int8 with --quantize int8)")
        parser.add_argument("--force", action="store_true",
                            help="replace an existing package in --out")
        parser.add_argument("--signing-key", type=Path, default=None,
                            help="EC private key (PEM): sign the package (model.sig)")
        parser.add_argument("--cached", action="store_true",
                            help="build into (or reuse) the build cache under "
                                 "$CATSITE_CACHE_DIR and print only its path")
        parser.add_argument("--quantize", choices=QUANTIZATIONS, default=None,
                            help="opt-in: an int8 model (static quantization, calibrated on "
                                 "scikit-image photos); default float32")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        if options["cached"]:
            if options["out"] or options["force"] or options["package_version"]:
                raise CommandError("--cached chooses its own directory and version: drop --out, "
                                   "--force and --version")
            return self._cached(verbosity, options["quantize"])
        if options["out"] is None:
            raise CommandError("--out DIR is required (or --cached)")
        self._require_build_dependencies()
        from catmodel.modelbuild.build import build_package
        from catmodel.modelbuild.quantize import build_quantized_package

        quantize = options["quantize"]
        version = options["package_version"] or (
            f"{DEFAULT_VERSION}-{quantize}" if quantize else DEFAULT_VERSION)
        report = self._reporter(verbosity)
        if quantize:
            result = build_quantized_package(options["out"], version, quantize,
                                             force=options["force"], report=report)
        else:
            result = build_package(options["out"], version=version, force=options["force"],
                                   report=report)
        if options["signing_key"]:
            self._sign(result.path, options["signing_key"], verbosity)
        if verbosity >= 1:
            self._summary(result)

    def _sign(self, package_dir, signing_key, verbosity):
        from catmodel.inference import BadModelPackage
        from catmodel.inference.signatures import sign_package

        try:
            signature = sign_package(package_dir, signing_key)
        except BadModelPackage as exc:
            raise CommandError(f"signing failed: {exc.message}; pass the path of an EC "
                               "private key in PEM") from None
        if verbosity >= 1:
            self.stdout.write(f"  Signed: {signature}")

    def _cached(self, verbosity, quantize=None):
        from catmodel.modelbuild.cache import (
            cached_package_dir,
            ensure_built,
            is_complete_package,
        )

        if not is_complete_package(cached_package_dir(quantize=quantize)):
            self._require_build_dependencies()
        # Progress goes to stderr: stdout carries only the path, for $(...) in shell scripts.
        report = self._reporter(verbosity, stream=self.stderr)
        self.stdout.write(str(ensure_built(report=report, quantize=quantize)))

    def _require_build_dependencies(self):
        require_build_modules("build_model")

    def _reporter(self, verbosity, stream=None):
        stream = stream or self.stdout

        def report(message):
            if verbosity >= 1:
                stream.write(f"  {message}")

        return report

    def _summary(self, result):
        manifest = result.manifest
        parity = manifest.raw["checks"]["parity"]
        chelsea, coffee = manifest.raw["checks"]["sanity"]
        self.stdout.write(self.style.SUCCESS(
            f"Built {manifest.name} {manifest.version} in {result.path} "
            f"({result.seconds:.1f} s)"
        ))
        self.stdout.write(
            f"  model.onnx: {result.model_bytes / 1e6:.1f} MB; parity with PyTorch: max abs "
            f"diff {parity['max_abs_diff']:.2g}, top-1 agreement {parity['top1_agreement']:.0%}"
        )
        self.stdout.write(
            f"  chelsea: domestic cat {chelsea['domestic_cat_probability']:.1%}; "
            f"coffee: top-1 {coffee['top1']['label']} {coffee['top1']['probability']:.1%}"
        )
        quantization = manifest.raw["checks"].get("quantization")
        if quantization:
            self.stdout.write(
                f"  int8 against float32 on the sample photos: max abs diff of logits "
                f"{quantization['real']['max_abs_diff']:.2g}, top-1 agreement "
                f"{quantization['real']['top1_agreement']:.0%}")
