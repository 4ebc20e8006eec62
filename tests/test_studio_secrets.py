"""`whosaid studio` never shows a secret: the token (as is, JSON-escaped, non-ASCII) and
credentials inside the URL, in usage errors and server errors alike; connection options
are accepted after the subcommand too; a server answer without what was asked for is
an error."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from whosaid.cli import studio
from whosaid.studio.client import scrub, secret_forms
from test_studio import ApiError, FakeClient

URL = "http://studio.invalid:8080"


@pytest.fixture
def label_config(repo_root) -> str:
    return (repo_root / "data" / "label-config.xml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)


def run(argv, client, capsys):
    seen = []

    def factory(conn):
        seen.append(conn)
        return client

    try:
        code = studio.main(argv, client_factory=factory)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err, seen


def leaks(text: str, secret: str) -> bool:
    return any(form in text for form in secret_forms(secret) if len(form) >= 4)


def test_connection_options_after_the_subcommand(capsys, label_config):
    token = "tok-after-0123456789"
    code, out, err, seen = run(["project", "--title", "news", "--url", URL, "--token", token], FakeClient(label_config),
                               capsys)
    assert code == 0, err
    assert (seen[0].url, seen[0].token) == (URL, token) and out.strip() == "7"
    code, _, _, seen = run(["--url", URL, "project", "--title", "news", "--token", token, "--timeout", "5"],
                           FakeClient(label_config), capsys)
    assert code == 0 and seen[0].timeout == 5.0


@pytest.mark.parametrize("argv", [
    ["project", "--title", "x", "--url", URL, "--token", "tok\"en'secret-1", "--bogus", "tok\"en'secret-1"],
    ["--token=tok\"en'secret-1", "project", "--title", "x", "--project", "tok\"en'secret-1"],
    ["--tok", "tok\"en'secret-1", "import", "--project", "tok\"en'secret-1", "a.txt"],
])
def test_usage_errors_never_echo_the_token(argv, capsys, label_config):
    code, out, err, seen = run(argv, FakeClient(label_config), capsys)
    assert code == 2 and not seen and "error:" in err
    assert not leaks(out + err, "tok\"en'secret-1"), err


@pytest.mark.parametrize("token", ["quote\"token-secret-42", "caf\u00e9-token-secret-42"])
def test_server_echo_of_an_escaped_or_non_ascii_token_is_masked(token, capsys, label_config):
    fail = ApiError(500, {"detail": f"bad token {token}", "header": f"Token {token}"})
    code, out, err, seen = run(["--url", URL, "--token", token, "check", "--project", "7"],
                               FakeClient(label_config, fail=fail), capsys)
    assert code == (1 if token.isascii() else 2) and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not leaks(out + err, token), err
    if not token.isascii():
        assert "cannot carry" in err and not seen  # refused before any request


def test_credentials_inside_the_url_are_masked(capsys, label_config):
    url = "http://alice:s3cr3t-pw@studio.invalid:8080"
    code, out, err, _ = run(["--url", url, "--token", "tok-0123456789", "check", "--project", "5"],
                            FakeClient(label_config), capsys)
    assert code == 1 and "project 5 not found on Label Studio at http://***@studio.invalid:8080" in err
    assert "s3cr3t" not in err and "alice" not in err
    code, _, err, _ = run(["--url", "ftp://alice:s3cr3t-pw@h", "--token", "tok-0123456789", "check", "--project", "5"],
                          FakeClient(label_config), capsys)
    assert code == 2 and "s3cr3t" not in err and "alice" not in err


def test_answer_without_an_id_is_an_error(capsys, label_config):
    client = FakeClient(label_config, projects=[])
    client.projects.create = lambda **kw: {}  # 200 with {}
    code, out, err, _ = run(["--url", URL, "--token", "tok-0123456789", "project", "--title", "new"], client, capsys)
    assert code == 1 and out == ""
    assert "answered without a project id" in err and "None" not in out


def test_scrub_forms():
    token = 'a"b\u00e9c/d e'
    message = f"{token} {json.dumps(token)} {json.dumps(token, ensure_ascii=False)} {token!r}"
    from urllib.parse import quote

    message += " " + quote(token, safe="")
    assert not leaks(scrub(message, token), token)
