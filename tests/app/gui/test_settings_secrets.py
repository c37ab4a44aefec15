"""Nothing secret reaches the settings file: librdkafka's sensitive properties, values
that carry a secret, and credentials inside a registry URL are all left out."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.gui.settings import Settings
from app.sources.connections import ConnectionRequest

SECRETS = {
    "ssl.key.pem": "-----BEGIN PRIVATE KEY-----MIIEv1234",
    "sasl.oauthbearer.assertion.private.key.pem": "-----BEGIN PRIVATE KEY-----MIIEq5678",
    "sasl.oauthbearer.assertion.private.key.passphrase": "pass-phrase-9",
    "sasl.oauthbearer.config": "clientId=app clientSecret=s3cr3t-value",
    "sasl.password": "hunter2",
}


def test_recent_connections_keep_no_secret(qapp: QApplication, tmp_path: Path) -> None:
    options = (*(f"{k}={v}" for k, v in SECRETS.items()), "client.id=support-desk")
    request = ConnectionRequest(
        "broker:9093", options, None, "https://reg-user:reg-pass@registry:8081/x"
    )
    settings = Settings(tmp_path / "s.ini")
    settings.add_recent_connection(request.to_recent())
    settings.sync()
    text = (tmp_path / "s.ini").read_text()
    for value in (*SECRETS.values(), "reg-pass", "reg-user"):
        assert value not in text, value
    (recent,) = settings.recent_connections()
    assert dict(recent.properties) == {"client.id": "support-desk"}
    assert recent.registry == "https://registry:8081/x"
