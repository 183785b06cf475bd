"""Certificates for the stack: a trustme CA and one certificate per host name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class CertFiles:
    cert: Path  # the leaf certificate followed by its chain (what nginx wants)
    key: Path


class CertificateAuthority:
    """A private CA whose certificate file is what mcplint gets as ``--ca-bundle``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._ca = trustme.CA(organization_name="mcplint livestack")
        self.ca_file = directory / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        self._issued: dict[str, CertFiles] = {}

    def cert_for(self, *names: str) -> CertFiles:
        """A certificate for ``names`` (the first is its file name), minted once."""
        key = names[0]
        if key not in self._issued:
            leaf = self._ca.issue_cert(*names)
            files = CertFiles(self.directory / f"{key}.crt", self.directory / f"{key}.key")
            leaf.private_key_pem.write_to_path(str(files.key))
            files.cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
            self._issued[key] = files
        return self._issued[key]
