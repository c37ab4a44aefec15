"""TLS material for the test broker's secure listener, made with ``openssl``."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path


def make_tls(folder: Path, store_password: str) -> tuple[Path, Path]:
    """A CA (``ca.pem``) and a broker certificate for 127.0.0.1/localhost signed by it,
    in a PKCS#12 key store (``broker.p12``) the broker reads; made once per folder."""
    ca, keystore = folder / "ca.pem", folder / "broker.p12"
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str | Path) -> None:
        subprocess.run(
            ["openssl", *map(str, args)],
            check=True,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", ca, "-days", "7",
            "-subj", "/CN=event-explorer test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    openssl("req", *ec, "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost")
    (folder / "broker.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    openssl("x509", "-req", "-in", "broker.csr", "-CA", ca, "-CAkey", "ca.key",
            "-set_serial", str(secrets.randbits(63)), "-days", "7",
            "-extfile", "broker.ext", "-out", "broker.pem")  # fmt: skip
    openssl("pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key",
            "-certfile", ca, "-name", "broker", "-out", keystore,
            "-passout", f"pass:{store_password}")  # fmt: skip
    return ca, keystore
