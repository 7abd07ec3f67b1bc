"""Settings: defaults, validation naming the variable, secrets kept out of repr.

Bad values are checked through ``read_settings``, what every process calls at start:
the delivery targets and their schedule are built there (by ``service.outbound``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.app import read_settings
from service.config import load_settings
from service.errors import ConfigError
from service.outbound.settings import outbound_from
from tests.processes import GUNICORN, REPO


def test_defaults_follow_the_contract() -> None:
    settings = load_settings({})
    assert settings.genesys_api_url == "https://api.mypurecloud.com"
    assert settings.genesys_login_url == "https://login.mypurecloud.com"
    assert settings.archiver_db == Path("var/ledger.db")
    assert settings.archive_dir == Path("var/archive")
    assert (settings.retention_days, settings.retention_max_versions) == (365, None)
    assert (settings.max_concurrent_archives, settings.sweep_interval_seconds) == (5, 3600)
    assert settings.port == 8000
    assert settings.worker_nice == 10


def test_region_gives_both_hosts_and_overrides_win() -> None:
    settings = load_settings({"GENESYS_REGION": "mypurecloud.ie"})
    assert settings.genesys_api_url == "https://api.mypurecloud.ie"
    assert settings.genesys_login_url == "https://login.mypurecloud.ie"
    settings = load_settings({"GENESYS_API_URL": "http://127.0.0.1:9/"})
    assert settings.genesys_api_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RETENTION_DAYS": "a year"}, "RETENTION_DAYS is invalid: must be a whole number"),
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS is invalid: must be at least 1"),
        ({"RETENTION_MAX_VERSIONS": "-3"}, "RETENTION_MAX_VERSIONS is invalid: must be at least 1"),
        ({"GENESYS_API_URL": "api.example"}, "GENESYS_API_URL is invalid: must be an http(s) URL"),
        ({"PORT": "70000"}, "PORT is invalid: must be at most 65535"),
        ({"WORKER_NICE": "20"}, "WORKER_NICE is invalid: must be at most 19"),
        ({"WORKER_NICE": "-5"}, "WORKER_NICE is invalid: must be at least 0"),
        ({"VCS_WEBHOOK_SECRET": "plain"}, "VCS_WEBHOOK_SECRET is invalid: must have the form"),
        ({"VCS_WEBHOOK_URLS": "http://127.0.0.1:1/x"}, "VCS_WEBHOOK_SECRET is required"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_settings(env)
    assert str(caught.value).startswith(message)


def test_secret_values_never_appear_in_errors_or_repr() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"VCS_WEBHOOK_SECRET": "hunter2-very-secret"})
    assert "hunter2" not in str(caught.value)
    settings = load_settings(
        {"GENESYS_CLIENT_SECRET": "s3cr3t-value", "ADMIN_TOKEN": "adm1n-adm1n-adm1n"}
    )
    assert "s3cr3t-value" not in repr(settings)
    assert "adm1n" not in repr(settings)
    assert set(settings.secrets()) == {"s3cr3t-value", "adm1n-adm1n-adm1n"}


def test_short_secrets_are_refused_without_showing_them() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"INBOUND_TOKEN": "t0ken"})
    assert str(caught.value) == "INBOUND_TOKEN is invalid: must be at least 16 characters long"
    with pytest.raises(ConfigError, match="ARCHIVAL_TOKEN is invalid: must be at least 8"):
        load_settings({"ARCHIVAL_TOKEN": "abc"})


def test_require_names_the_missing_variable() -> None:
    settings = load_settings({})
    with pytest.raises(ConfigError, match="GENESYS_CLIENT_ID is required to call Genesys"):
        settings.require("GENESYS_CLIENT_ID", purpose="to call Genesys Cloud")


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RETENTION_DAYS=30\nPORT=9001\n")
    code = (
        "from service.config import load_settings; s = load_settings();"
        "print(s.retention_days, s.port)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PORT": "9002", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["30", "9002"]


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "RETENTION_DAYS",
            "soon",
            "RETENTION_DAYS is invalid: must be a whole number (got 'soon')",
        ),
        (
            "VCS_TARGETS",
            '[{"type": "github", "repository": "nope", "token": "ghp_token_never_shown"}]',
            "VCS_TARGETS[0].repository is invalid: must be owner/name",
        ),
        (
            "VCS_RETRY_SCHEDULE",
            "soon",
            "VCS_RETRY_SCHEDULE is invalid: a retry schedule is a comma-separated list of "
            "seconds, such as 5,300,1800",
        ),
    ],
    ids=["RETENTION_DAYS", "VCS_TARGETS", "VCS_RETRY_SCHEDULE"],
)
def test_bad_setting_exits_2_with_one_line(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "archive", "38426578-d900-459f-a7e7-3260397f7ca3"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", name: value},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"archiver: {line}"]
    assert "ghp_token_never_shown" not in result.stderr


WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_targets_simple_and_json_forms() -> None:
    settings = read_settings(
        {
            "VCS_WEBHOOK_URLS": "http://127.0.0.1:9/hook?sig=abc",
            "VCS_WEBHOOK_SECRET": WHSEC,
            "VCS_TARGETS": '[{"name": "gh", "type": "github", "repository": "acme/routing",'
            ' "token": "ghp_secret_token"}]',
            "VCS_RETRY_SCHEDULE": "1,2,3",
        }
    )
    outbound = outbound_from(settings)
    assert [(t.name, t.kind) for t in outbound.targets] == [
        ("http://127.0.0.1:9/hook", "webhook"),
        ("gh", "github"),
    ]
    assert outbound.names == ["http://127.0.0.1:9/hook", "gh"]
    assert outbound.retry.delays == (1.0, 2.0, 3.0)
    assert "ghp_secret_token" in settings.secrets()
    assert "ghp_secret_token" not in repr(settings)


def test_settings_know_every_secret_of_their_targets() -> None:
    """The ledger and the logs mask ``Settings.secrets()``: it must hold every credential
    the targets built from the same settings hold, though config.py does not build them."""
    targets = [
        {"type": "webhook", "url": "https://u:url-pass-123@hooks.example/a?key=query-token-9"},
        {"type": "webhook", "url": "https://hooks.example/b", "secret": WHSEC + "Zw=="},
        {"type": "github", "repository": "acme/routing", "token": "ghp_secret_token"},
        {"type": "gitlab", "project": 42, "ref": "main", "token": "glptt-trigger-token"},
    ]
    settings = read_settings(
        {
            "VCS_WEBHOOK_URLS": "https://hooks.example/c?token=simple-token-1&x=short",
            "VCS_WEBHOOK_SECRET": WHSEC,
            "VCS_TARGETS": json.dumps(targets),
        }
    )
    held = {secret for t in outbound_from(settings).targets for secret in t.secrets()}
    assert held == {
        WHSEC,
        WHSEC + "Zw==",
        "simple-token-1",
        "url-pass-123",
        "query-token-9",
        "ghp_secret_token",
        "glptt-trigger-token",
    }
    assert held <= set(settings.secrets())
    assert "short" not in settings.secrets()
    for secret in held:
        assert secret not in repr(settings)
    # Unreadable target settings (refused at start) give no secret and no crash.
    assert load_settings({"VCS_TARGETS": "[{"}).secrets() == []


def test_bad_targets_name_the_path_and_hide_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        read_settings(
            {
                "VCS_TARGETS": '[{"name": "gh", "type": "github", "repository": "no-slash",'
                ' "token": "ghp_secret_token"}]'
            }
        )
    assert str(caught.value).startswith("VCS_TARGETS[0].repository is invalid")
    assert "ghp_secret_token" not in str(caught.value)
    with pytest.raises(ConfigError, match="VCS_RETRY_SCHEDULE is invalid"):
        read_settings({"VCS_RETRY_SCHEDULE": "soon"})


# Bad URLs are named without the parts that hold credentials --------------------------------

# userinfo and query of a URL that is wrong only in its scheme
LEAKY = "ftp://mover:pw-secret-4321@host.example/in?token=tok-secret-1234&code=code-secret-987"
LEAKS = ("pw-secret-4321", "tok-secret-1234", "code-secret-987")


def _targets(item: str) -> str:
    return f"[{item}]"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GENESYS_API_URL": LEAKY},
            "GENESYS_API_URL is invalid: must be an http(s) URL (got 'ftp://host.example/in')",
        ),
        (
            {"GENESYS_LOGIN_URL": LEAKY},
            "GENESYS_LOGIN_URL is invalid: must be an http(s) URL (got 'ftp://host.example/in')",
        ),
        (
            {"ARCHIVAL_ENDPOINT": LEAKY},
            "ARCHIVAL_ENDPOINT is invalid: must be an http(s) URL (got 'ftp://host.example/in')",
        ),
        (  # not a URL at all, perhaps a token in the wrong variable: not shown
            {"ARCHIVAL_ENDPOINT": "tok-secret-1234"},
            "ARCHIVAL_ENDPOINT is invalid: must be an http(s) URL",
        ),
        (
            {"VCS_WEBHOOK_URLS": f"https://ok.example/hook, {LEAKY}", "VCS_WEBHOOK_SECRET": WHSEC},
            "VCS_WEBHOOK_URLS is invalid: entry 2 is not an http(s) URL (got 'ftp://host.example/in')",
        ),
        (
            {
                "VCS_TARGETS": _targets(
                    f'{{"type": "webhook", "url": "{LEAKY}", "secret": "{WHSEC}"}}'
                )
            },
            "VCS_TARGETS[0].url is invalid: must be an http(s) URL",
        ),
        (
            {
                "VCS_TARGETS": _targets(
                    '{"type": "github", "repository": "acme/routing", "token": "ghp_secret_token",'
                    f' "baseUrl": "{LEAKY}"}}'
                )
            },
            "VCS_TARGETS[0].baseUrl is invalid: must be an http(s) URL",
        ),
        (
            {
                "VCS_TARGETS": _targets(
                    '{"type": "gitlab", "project": "group/project", "ref": "main",'
                    f' "token": "glptt-secret-token", "baseUrl": "{LEAKY}"}}'
                )
            },
            "VCS_TARGETS[0].baseUrl is invalid: must be an http(s) URL",
        ),
    ],
    ids=[
        "GENESYS_API_URL",
        "GENESYS_LOGIN_URL",
        "ARCHIVAL_ENDPOINT",
        "ARCHIVAL_ENDPOINT-not-a-url",
        "VCS_WEBHOOK_URLS",
        "VCS_TARGETS-webhook-url",
        "VCS_TARGETS-github-baseUrl",
        "VCS_TARGETS-gitlab-baseUrl",
    ],
)
def test_bad_urls_are_named_without_credentials(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_settings(env)
    assert str(caught.value) == message
    for secret in LEAKS:
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "ARCHIVAL_ENDPOINT",
            LEAKY,
            "ARCHIVAL_ENDPOINT is invalid: must be an http(s) URL (got 'ftp://host.example/in')",
        ),
        (
            "VCS_WEBHOOK_URLS",
            LEAKY,
            "VCS_WEBHOOK_URLS is invalid: entry 1 is not an http(s) URL (got 'ftp://host.example/in')",
        ),
        (  # the message repeats this value; the redaction of the logs masks it
            "RETENTION_DAYS",
            "access_token=tok-secret-1234",
            "RETENTION_DAYS is invalid: must be a whole number (got 'access_token=***')",
        ),
    ],
    ids=["url-without-credentials", "targets-without-credentials", "redacted"],
)
def test_gunicorn_refuses_a_bad_setting_in_one_line_without_its_secret(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "INBOUND_TOKEN": "inbound-token-for-tests", name: value}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result = subprocess.run(
        [str(GUNICORN), "-c", str(REPO / "gunicorn.conf.py"), "service.app:create_app()"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"archiver web: {line}"]
    for secret in LEAKS:
        assert secret not in result.stderr + result.stdout
