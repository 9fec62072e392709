"""Signing model packages and checking their signature against trusted keys (OpenSSF model
signing, PyPI ``model-signing``, key-based: elliptic-curve P-256 keys in PEM).

The signature (``model.sig``, a Sigstore bundle whose DSSE envelope holds an in-toto statement)
lists the sha256 of every file of the package directory: the manifest and the files it lists.
So a store-level attacker who replaces ``model.onnx`` and rewrites ``manifest.json`` to match
still fails here: the signature no longer matches, and they cannot make a new one without the
private key. sha256 in the manifest catches corruption; this catches an adversary.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import BadModelPackage
from .package import SIGNATURE_FILE

# A signature is a few kilobytes; anything near this is not one (read before parsing).
MAX_SIGNATURE_BYTES = 1024 * 1024


class SignatureRefused(BadModelPackage):
    """The package's signature is missing, made by a key we do not trust, unreadable, or does
    not match the files. ``reason``: "unsigned", "untrusted_key", "unreadable" or "changed"."""

    def __init__(self, reason: str, problem: str):
        self.reason = reason
        super().__init__(SIGNATURE_FILE, problem)


@dataclass(frozen=True)
class TrustedKey:
    path: Path
    hint: str  # sha256 of the key's PEM, as model-signing records it in a signature


def load_trusted_keys(paths) -> tuple[TrustedKey, ...]:
    """The public keys at ``paths`` (PEM, EC P-256/384/521). BadModelPackage naming the file
    when one is missing or not such a key: a typo must not silently turn verification off."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = []
    for path in paths:
        path = Path(path)
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except OSError as exc:
            raise BadModelPackage(str(path), f"trusted key not readable ({exc.strerror or exc})") \
                from None
        except ValueError:
            raise BadModelPackage(str(path), "not a PEM public key") from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise BadModelPackage(str(path), "not an elliptic-curve public key")
        keys.append(TrustedKey(path=path, hint=_key_hint(key)))
    return tuple(keys)


def sign_package(package_dir, private_key) -> Path:
    """Write ``package_dir/model.sig``, signing every file of the package with the EC private
    key in the PEM file ``private_key``. Returns the signature's path."""
    package_dir = Path(package_dir)
    signature = package_dir / SIGNATURE_FILE
    signing, _verifying, hashing = _model_signing()
    try:
        (signing.Config()
         .use_elliptic_key_signer(private_key=Path(private_key))
         .set_hashing_config(_hashing_config(hashing, signature))
         .sign(package_dir, signature))
    except (OSError, ValueError, TypeError) as exc:
        raise BadModelPackage(str(private_key), f"cannot sign with this key ({exc})") from None
    return signature


def verify_signature(package_dir, trusted_keys: tuple[TrustedKey, ...],
                     held: dict[str, bytes] | None = None) -> TrustedKey:
    """The trusted key that signed the package in ``package_dir``; SignatureRefused when it is
    unsigned, signed by another key, or its files differ from what was signed.

    ``held``: bytes of package files the caller has already read and will use (the loader's
    manifest and model, package.verify_and_read_model): each must be what was signed, so what
    is verified on disk and what is loaded cannot differ (a file or a ``current`` symlink
    swapped between the two reads)."""
    # MODEL_DIR/current is a symlink to the version: model-signing refuses to follow symlinks
    # inside a package (rightly), so the directory itself is resolved first (and only once).
    package_dir = Path(package_dir).resolve()
    signature = package_dir / SIGNATURE_FILE
    data = _read_signature(signature)
    hint = _hint_of(data)
    key = next((k for k in trusted_keys if k.hint == hint), None)
    if key is None:
        raise SignatureRefused(
            "untrusted_key",
            f"signed by a key that is not trusted (key sha256 {hint[:16]}...), not one of "
            "MODEL_TRUSTED_KEYS")
    # model-signing reads the signature from a path: give it a private copy of the bytes read
    # above, so the statement it verifies is the one checked against ``held`` below.
    with tempfile.TemporaryDirectory(prefix="catsite-sig-") as scratch:
        copy = Path(scratch) / SIGNATURE_FILE
        copy.write_bytes(data)
        _verify_with(key, package_dir, copy, ignored=signature)
    if held:
        _check_held(data, held, key)
    return key


def _verify_with(key: TrustedKey, package_dir: Path, signature: Path, *, ignored: Path) -> None:
    from cryptography.exceptions import InvalidSignature

    _signing, verifying, hashing = _model_signing()
    try:
        (verifying.Config()
         .use_elliptic_key_verifier(public_key=key.path)
         .set_hashing_config(_hashing_config(hashing, ignored))
         .verify(package_dir, signature))
    except InvalidSignature:
        raise SignatureRefused(
            "changed", f"does not verify with the trusted key {key.path.name} it names: the "
                       "signed statement was changed or forged") from None
    except ValueError as exc:
        if "Signature mismatch" not in str(exc):
            raise SignatureRefused("unreadable", f"not a valid model signature ({exc})") \
                from None
        raise SignatureRefused("changed", _what_changed(str(exc))) from None
    except Exception as exc:  # model-signing raises many types on malformed input
        raise SignatureRefused("unreadable", f"not a valid signature ({type(exc).__name__})") \
            from None


def _check_held(data: bytes, held: dict[str, bytes], key: TrustedKey) -> None:
    """SignatureRefused unless each held file's sha256 is the one the (verified) statement in
    ``data`` lists for it."""
    signed = _statement_digests(data)
    changed = sorted(name for name, content in held.items()
                     if signed.get(name) != hashlib.sha256(content).hexdigest())
    if changed:
        raise SignatureRefused(
            "changed", f"signed by {key.path.name}, but the {', '.join(changed)} read for "
                       "loading differ from what was signed (the package changed while it "
                       "was being loaded)")


def signer_hint(signature: Path) -> str:
    """The hash of the public key a signature names (read without trusting it)."""
    return _hint_of(_read_signature(signature))


def _read_signature(signature: Path) -> bytes:
    try:
        with open(signature, "rb") as stream:
            return stream.read(MAX_SIGNATURE_BYTES + 1)
    except FileNotFoundError:
        raise SignatureRefused(
            "unsigned", "missing: the package is not signed, and MODEL_TRUSTED_KEYS requires a "
                        "signature by one of its keys") from None
    except OSError as exc:
        raise SignatureRefused("unreadable", f"not readable ({exc.strerror or exc})") from None


def _hint_of(data: bytes) -> str:
    try:
        if len(data) > MAX_SIGNATURE_BYTES:
            raise ValueError("too large")
        bundle = json.loads(data)
        hint = bundle["verificationMaterial"]["publicKey"]["hint"]
        if not isinstance(hint, str) or not hint:
            raise ValueError("no key hint")
    except (ValueError, KeyError, TypeError):
        raise SignatureRefused("unreadable", "not a model signature (OpenSSF model signing "
                                             "bundle with a public key hint)") from None
    return hint


def signed_files(signature: Path) -> dict[str, str]:
    """{file name: sha256} as the signature lists them, unverified (for messages and tests)."""
    return _statement_digests(Path(signature).read_bytes())


def _statement_digests(data: bytes) -> dict[str, str]:
    """{file name: sha256} of the in-toto statement in a signature bundle's DSSE envelope."""
    try:
        bundle = json.loads(data)
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        return {r["name"]: r["digest"] for r in statement["predicate"]["resources"]}
    except (ValueError, KeyError, TypeError):
        raise SignatureRefused("unreadable", "its statement lists no file digests") from None


def _what_changed(detail: str) -> str:
    """model-signing's list of differences, as one line naming the files."""
    names = sorted(set(re.findall(r"Hash mismatch for \\?'([^'\\]+)\\?'", detail)))
    for kind in ("Extra files", "Missing files"):
        found = re.search(kind + r" found in model '[^']*': ([^\]\"]+)", detail) or \
            re.search(kind + r" in model '[^']*': ([^\]\"]+)", detail)
        if found:
            names.append(f"{kind.split()[0].lower()} {found.group(1).strip()}")
    what = ", ".join(names) or "the files"
    return f"says the package's files differ from what was signed ({what})"


def _key_hint(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    pem = public_key.public_bytes(encoding=serialization.Encoding.PEM,
                                  format=serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def _hashing_config(hashing, signature: Path):
    # The signature cannot sign itself; every other file of the directory is signed.
    return hashing.Config().set_ignored_paths(paths=[signature], ignore_git_paths=False)


def _model_signing():
    """model-signing's signing, verifying and hashing modules, imported when first needed (it
    pulls in sigstore: seconds of start-up the unsigned path does not pay). model-signing 1.1
    imports pyOpenSSL without declaring it: the web role (pyproject.toml) does."""
    from model_signing import hashing, signing, verifying

    return signing, verifying, hashing
