"""Properties files read as java.util.Properties reads them; -X options that never echo a
secret in their errors.

The expected results of the tricky file come from Java itself (a few lines of Java run
with the JDK the broker needs), not from the parser under test.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kafka_io.profile import ConnectionProfile, ProfileError, parse_properties, parse_x_options

JAVA_DUMP = """\
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class Dump {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
        return b.length() == 0 ? "-" : b.toString();
    }
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        InputStream in = new FileInputStream(args[0]);
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        for (String k : new TreeSet<>(p.stringPropertyNames())) {
            System.out.println(hex(k) + " " + hex(p.getProperty(k)));
        }
    }
}
"""

TRICKY = (
    "# a comment\n"
    "! another comment \\\n"
    "bootstrap.servers=broker:9092\n"
    "   security.protocol : SASL_SSL\n"
    "sasl.mechanism\tPLAIN\n"
    "sasl.username    alice\n"
    "sasl.password = pw with spaces  \n"
    "ssl.ca.location=/etc/ssl/ca.pem\\\n"
    "    ,continued\n"
    "client.id=a\\=b\\:c\\ d\\#e\n"
    "odd\\ key=1\n"
    "unicode=caf\\u00e9 \\u2603\n"
    "tabs=x\\ty\n"
    "empty=\n"
    "lonely\n"
    "colon:first=then\n"
    "eq=first:then\n"
    "double==x\n"
    "  \n"
    "\tindented.key=v\n"
    "dup=1\r\n"
    "dup=2\r"
    "windows=yes\r\n"
    "even.backslashes=ends\\\\\n"
    "next=line\n"
    "continued.comment=a\\\n"
    "   # not a comment\n"
)


def _java_parse(tmp_path: Path, text: str) -> dict[str, str]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("no JDK on this machine (the Kafka tests need one too)")
    (tmp_path / "Dump.java").write_text(JAVA_DUMP)
    props = tmp_path / "client.properties"
    props.write_text(text, encoding="utf-8")
    out = subprocess.run(
        [java, str(tmp_path / "Dump.java"), str(props)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout

    def unhex(h: str) -> str:
        return "" if h == "-" else bytes.fromhex(h).decode("utf-8")

    return dict(tuple(map(unhex, line.split(" "))) for line in out.splitlines())  # type: ignore[misc]


def test_a_properties_file_reads_as_java_reads_it(tmp_path: Path) -> None:
    expected = _java_parse(tmp_path, TRICKY)
    assert expected["sasl.password"] == "pw with spaces  "  # Java keeps it; the client trims
    # The Java client trims every value it is given (ConfigDef), so the same is done here.
    assert parse_properties(TRICKY) == {k: v.strip() for k, v in expected.items()}


def test_whitespace_and_colon_separate_like_equals() -> None:
    props = parse_properties("sasl.password   pw\nsasl.username: me\nsasl.mechanism=PLAIN\n")
    assert props == {"sasl.password": "pw", "sasl.username": "me", "sasl.mechanism": "PLAIN"}


def test_a_malformed_escape_is_one_line_without_the_value() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_properties("a=1\nsasl.password=hunter2\\uZZ\n")
    text = str(caught.value)
    assert text.startswith("line 2") and "\\uXXXX" in text
    assert "hunter2" not in text and "\n" not in text


def test_a_value_without_a_name_is_an_error_that_does_not_repeat_it() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_properties("=hunter2\n")
    assert "line 1" in str(caught.value) and "hunter2" not in str(caught.value)


def test_a_config_file_that_is_not_utf8_is_read_as_java_reads_streams(tmp_path: Path) -> None:
    path = tmp_path / "latin1.properties"
    path.write_bytes("bootstrap.servers=b:9092\nclient.id=caf\xe9\n".encode("iso-8859-1"))
    profile = ConnectionProfile.from_args(None, config_file=path)
    assert profile.bootstrap == "b:9092"
    assert profile.properties["client.id"] == "café"


def test_config_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.properties"
    path.write_text("bootstrap.servers=b:9092\nsasl.password=s3cret\\u12\n")
    with pytest.raises(ProfileError) as caught:
        ConnectionProfile.from_args(None, config_file=path)
    assert str(path) in str(caught.value) and "line 2" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_x_options_take_key_equals_value_only() -> None:
    assert parse_x_options(["a.b=c", "sasl.password=p=w:d", "x.y="]) == {
        "a.b": "c",
        "sasl.password": "p=w:d",
        "x.y": "",
    }


@pytest.mark.parametrize(
    ("option", "name"),
    [
        ("sasl.password:hunter2", "sasl.password"),
        ("sasl.password hunter2", "sasl.password"),
        ("ssl.key.password:hunter2=x", "ssl.key.password"),
        ("sasl.oauthbearer.config:clientSecret=hunter2", "sasl.oauthbearer.config"),
        ("my.api.token hunter2", "my.api.token"),
    ],
)
def test_a_mistyped_secret_x_option_is_refused_without_echoing_it(option: str, name: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_x_options([option])
    text = str(caught.value)
    assert name in text and "hunter2" not in text and "\n" not in text


def test_a_mistyped_public_x_option_is_refused_and_shown() -> None:
    with pytest.raises(ProfileError, match=r"client\.id:me"):
        parse_x_options(["client.id:me"])
    with pytest.raises(ProfileError, match="no property name"):
        parse_x_options(["=hunter2"])
