"""``VCS_TARGETS`` and the simple ``VCS_WEBHOOK_URLS`` form become targets, or one clear error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.errors import ConfigError
from service.outbound.settings import parse_targets
from service.outbound.targets import GitHubTarget, GitLabTarget, WebhookTarget

from .events import SECRET

OTHER_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
TOKEN = "ghp_SuperSecretToken123"
PROJECT_HINT = (
    "VCS_TARGETS[0].project is invalid: must be a numeric id or a path such as group/project"
)


def targets(items: list[Any], urls: tuple[str, ...] = (), secret: str | None = None) -> tuple:
    return parse_targets(json.dumps(items), urls, secret)


def error(items: Any, urls: tuple[str, ...] = (), secret: str | None = None) -> str:
    text = items if isinstance(items, str) else json.dumps(items)
    with pytest.raises(ConfigError) as caught:
        parse_targets(text, urls, secret)
    return str(caught.value)


def test_simple_form_one_webhook_per_url_named_without_query_or_fragment() -> None:
    urls = ("https://hooks.example/a?token=abc#frag", " https://other.example:8443/b ", "")
    found = parse_targets(None, urls, SECRET)
    assert [(t.name, t.kind, t.url, t.secret) for t in found] == [
        ("https://hooks.example/a", "webhook", "https://hooks.example/a?token=abc#frag", SECRET),
        ("https://other.example:8443/b", "webhook", "https://other.example:8443/b", SECRET),
    ]


def test_simple_form_names_leave_out_credentials() -> None:
    (target,) = parse_targets("", ["https://user:pa55@hooks.example/a"], SECRET)
    assert target.name == "https://hooks.example/a"
    assert "pa55" in target.secrets()


def test_nothing_configured_is_no_target() -> None:
    assert parse_targets(None, [], None) == ()
    assert parse_targets("  ", [], SECRET) == ()
    assert parse_targets("[]", [], None) == ()


def test_simple_form_requires_the_secret() -> None:
    assert error("[]", ("https://hooks.example/a",)) == (
        "VCS_WEBHOOK_SECRET is required when VCS_WEBHOOK_URLS is set"
    )


def test_json_form_with_each_kind_and_its_defaults() -> None:
    found = targets(
        [
            {
                "name": "audit",
                "type": "webhook",
                "url": "https://hooks.example/x",
                "secret": SECRET,
            },
            {"name": "gh", "type": "github", "repository": "owner/repo", "token": TOKEN},
            {
                "name": "gl",
                "type": "gitlab",
                "project": "group/project",
                "token": "trigger-token",
                "ref": "main",
            },
        ]
    )
    assert found == (
        WebhookTarget(name="audit", url="https://hooks.example/x", secret=SECRET),
        GitHubTarget(
            name="gh",
            base_url="https://api.github.com",
            repository="owner/repo",
            event_type="strategy-archive",
            token=TOKEN,
        ),
        GitLabTarget(
            name="gl",
            base_url="https://gitlab.com",
            project="group/project",
            ref="main",
            token="trigger-token",
        ),
    )
    assert found[1].endpoint == "https://api.github.com/repos/owner/repo/dispatches"
    assert found[2].endpoint == (
        "https://gitlab.com/api/v4/projects/group%2Fproject/trigger/pipeline"
    )


def test_json_form_base_urls_event_type_and_numeric_projects() -> None:
    gh, gl = targets(
        [
            {
                "type": "github",
                "repository": "octo-org/my.repo",
                "token": TOKEN,
                "baseUrl": "https://ghe.example.com/api/v3/",
                "eventType": "archived",
            },
            {
                "type": "gitlab",
                "project": 123,
                "token": "trigger-token",
                "ref": "release/1.x",
                "baseUrl": "https://gitlab.example.com",
            },
        ]
    )
    assert (gh.name, gh.event_type) == ("github:octo-org/my.repo", "archived")
    assert gh.endpoint == "https://ghe.example.com/api/v3/repos/octo-org/my.repo/dispatches"
    assert (gl.name, gl.project, gl.ref) == ("gitlab:123", "123", "release/1.x")
    assert gl.endpoint == "https://gitlab.example.com/api/v4/projects/123/trigger/pipeline"


def test_json_webhook_without_its_own_secret_uses_the_shared_one() -> None:
    found = targets(
        [
            {"name": "a", "type": "webhook", "url": "https://a.example/"},
            {"name": "b", "type": "webhook", "url": "https://b.example/", "secret": OTHER_SECRET},
        ],
        secret=SECRET,
    )
    assert [t.secret for t in found] == [SECRET, OTHER_SECRET]


def test_both_forms_together_simple_form_first() -> None:
    found = targets(
        [{"name": "gh", "type": "github", "repository": "o/r", "token": TOKEN}],
        urls=("https://hooks.example/a",),
        secret=SECRET,
    )
    assert [t.name for t in found] == ["https://hooks.example/a", "gh"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            "{not json",
            "VCS_TARGETS is invalid: not JSON (Expecting property name enclosed in "
            "double quotes at line 1 column 2)",
        ),
        ({"type": "webhook"}, "VCS_TARGETS is invalid: must be a JSON list of objects"),
        (["https://x"], "VCS_TARGETS[0] is invalid: must be a JSON object"),
        ([{"name": "x"}], "VCS_TARGETS[0].type is required"),
        (
            [{"type": "bitbucket"}],
            "VCS_TARGETS[0].type is invalid: must be one of webhook, github, gitlab, git",
        ),
        (
            [
                {"type": "github", "repository": "o/r", "token": TOKEN},
                {"type": "github", "repository": "not-a-repo", "token": TOKEN},
            ],
            "VCS_TARGETS[1].repository is invalid: must be owner/name",
        ),
        ([{"type": "github", "token": TOKEN}], "VCS_TARGETS[0].repository is required"),
        ([{"type": "github", "repository": "o/r"}], "VCS_TARGETS[0].token is required"),
        (
            [{"type": "github", "repository": "o/r", "token": TOKEN, "baseUrl": "ftp://x"}],
            "VCS_TARGETS[0].baseUrl is invalid: must be an http(s) URL",
        ),
        (
            [{"type": "github", "repository": "o/r", "token": TOKEN, "eventType": "e" * 101}],
            "VCS_TARGETS[0].eventType is invalid: must be at most 100 characters",
        ),
        (
            [{"type": "github", "repository": "o/r", "token": TOKEN, "url": "https://x"}],
            "VCS_TARGETS[0].url is invalid: not a field of a github target",
        ),
        (
            [{"type": "gitlab", "project": "group/project", "token": "trigger-token"}],
            "VCS_TARGETS[0].ref is required",
        ),
        (
            [{"type": "gitlab", "project": "no spaces", "token": "trigger-token", "ref": "main"}],
            PROJECT_HINT,
        ),
        (
            [{"type": "gitlab", "project": ["1"], "token": "trigger-token", "ref": "main"}],
            PROJECT_HINT,
        ),
        (
            [{"type": "webhook", "url": "hooks.example/a", "secret": SECRET}],
            "VCS_TARGETS[0].url is invalid: must be an http(s) URL",
        ),
        (
            [{"type": "webhook", "url": "https://hooks.example/a"}],
            "VCS_TARGETS[0].secret is required (or set VCS_WEBHOOK_SECRET)",
        ),
        (
            [{"type": "webhook", "name": "", "url": "https://a.example", "secret": SECRET}],
            "VCS_TARGETS[0].name is invalid: must not be empty",
        ),
        (
            [{"type": "webhook", "name": 7, "url": "https://a.example", "secret": SECRET}],
            "VCS_TARGETS[0].name is invalid: must be a string",
        ),
    ],
)
def test_errors_name_the_variable_and_the_path(items: Any, message: str) -> None:
    assert error(items) == message


@pytest.mark.parametrize(
    ("items", "secret_value"),
    [
        ([{"type": "github", "repository": "o/r", "token": "has space sekrit"}], "sekrit"),
        ([{"type": "github", "repository": "sekrit", "token": "sekrit-sekrit"}], "sekrit"),
        ([{"type": "webhook", "url": "https://a.example", "secret": "whsec_sekrit!"}], "sekrit"),
        (
            [{"type": "webhook", "url": "https://a.example?token=sekrit", "secret": "sekrit"}],
            "sekrit",
        ),
        ([{"type": "gitlab", "project": "g/p", "token": ["sekrit"], "ref": "main"}], "sekrit"),
        ([{"type": "sekrit"}], "sekrit"),
        ('[{"type": "github", "token": "sekrit-sekrit" "x"}]', "sekrit"),
        ([{"type": "github", "repository": "o/r", "token": "sekrit"}], "sekrit"),
    ],
)
def test_no_error_repeats_a_value(items: Any, secret_value: str) -> None:
    text = error(items, secret=SECRET)
    assert text.startswith("VCS_TARGETS")
    assert secret_value not in text
    assert SECRET not in text


def test_a_malformed_shared_secret_is_refused_without_repeating_it() -> None:
    text = error("[]", ("https://a.example",), "whsec_!!sekrit")
    assert text == "VCS_WEBHOOK_SECRET is invalid: must have the form whsec_<base64>"


def test_duplicate_names_are_refused() -> None:
    hook = {"type": "webhook", "url": "https://hooks.example/a", "secret": SECRET}
    assert error([hook | {"name": "x"}, hook | {"name": "x"}]) == (
        "VCS_TARGETS[1].name is invalid: 'x' is already used by VCS_TARGETS[0]"
    )
    # A JSON webhook without a name is named like the simple form, so both clash.
    assert error([hook], ("https://hooks.example/a?v=2",), SECRET) == (
        "VCS_TARGETS[0].name is invalid: 'https://hooks.example/a' is already used by "
        "VCS_WEBHOOK_URLS"
    )
    assert error("[]", ("https://hooks.example/a?x=1", "https://hooks.example/a"), SECRET) == (
        "VCS_WEBHOOK_URLS is invalid: https://hooks.example/a is listed twice"
    )


def test_secrets_stay_out_of_repr_and_are_listed_for_redaction() -> None:
    hook, gh = targets(
        [
            {"name": "h", "type": "webhook", "url": "https://a.example/?key=qwertyuiop&n=1"},
            {"name": "gh", "type": "github", "repository": "o/r", "token": TOKEN},
        ],
        secret=SECRET,
    )
    shown = repr((hook, gh))
    for value in (SECRET, TOKEN, "qwertyuiop"):
        assert value not in shown
    assert hook.secrets() == [SECRET, "qwertyuiop"]
    assert gh.secrets() == [TOKEN]
