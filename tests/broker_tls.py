"""The test broker's secure listener (SASL_SSL, SCRAM) and its TLS material, made with
``openssl``."""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
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


@dataclass
class SecureListener:
    """The SASL_SSL listener of a broker started with ``secure=True``."""

    bootstrap: str
    ca_file: str  # PEM of the CA that signed the broker's certificate
    user: str
    password: str
    mechanism: str = "SCRAM-SHA-512"

    def client_properties(self, password: str | None = None) -> dict[str, str]:
        """librdkafka properties that reach this listener (another password: to fail)."""
        return {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": self.mechanism,
            "ssl.ca.location": self.ca_file,
            "sasl.username": self.user,
            "sasl.password": self.password if password is None else password,
        }


def secure_listener(workdir: Path, port: int) -> tuple[SecureListener, list[str]]:
    """A SASL_SSL listener on a free port: its TLS material, user and broker settings."""
    tls = workdir / "tls"
    store_password = secrets.token_urlsafe(12)
    ca_file, keystore = make_tls(tls, store_password)
    # token_urlsafe: no ',', '=' or ']' to break the --add-scram syntax.
    listener = SecureListener(
        bootstrap=f"127.0.0.1:{port}",
        ca_file=str(ca_file),
        user=f"support-{secrets.token_hex(3)}",
        password=secrets.token_urlsafe(18),
    )
    name = "listener.name.sasl_ssl"
    settings = [
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        f"{name}.sasl.enabled.mechanisms=SCRAM-SHA-512",
        f"{name}.scram-sha-512.sasl.jaas.config="
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        f"{name}.ssl.keystore.type=PKCS12",
        f"{name}.ssl.keystore.location={keystore}",
        f"{name}.ssl.keystore.password={store_password}",
        f"{name}.ssl.key.password={store_password}",
        f"{name}.ssl.client.auth=none",
    ]
    return listener, settings
