"""Signing keys for the tests: fresh EC P-256 key pairs made with openssl, as the procedure in
docs/model-delivery.md makes them."""
import subprocess
from pathlib import Path


def key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """(private PEM, public PEM) named NAME.pem and NAME.pub in directory."""
    private, public = directory / f"{name}.pem", directory / f"{name}.pub"
    subprocess.run(["openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out",
                    str(private)], check=True, capture_output=True)
    subprocess.run(["openssl", "ec", "-in", str(private), "-pubout", "-out", str(public)],
                   check=True, capture_output=True)
    return private, public
