"""The files in deploy/ are parsed and checked against the code they start and configure."""

import configparser
import re
import shlex
from pathlib import Path

import pytest
import typer.main

from campus.cli import app as cli
from campus.settings import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
CAMPUS = "/opt/campus/.venv/bin/campus"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def _env() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / "campus.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def _command(click_group, words: list[str]):
    """The click command a campus command line runs, and the options it was given."""
    command = click_group
    rest = list(words)
    while rest and hasattr(command, "commands") and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    return command, [w for w in rest if w.startswith("--")]


def test_there_are_units_for_web_workers_metrics_and_backups():
    names = {p.name for p in UNITS}
    assert names >= {
        "campus-web.service",
        "campus-worker@.service",
        "campus-metrics.service",
        "campus-backup.service",
        "campus-purge.service",
    }


@pytest.mark.parametrize("name", ["campus-backup", "campus-purge"])
def test_backups_and_the_purge_run_daily_from_a_timer_beside_a_oneshot_service(name):
    timer = _unit(DEPLOY / "systemd" / f"{name}.timer")
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert timer["Timer"]["Persistent"] == "true"
    # Every day at a fixed time (a timer with no Unit= starts the service of its own name).
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", timer["Timer"]["OnCalendar"])
    assert "Unit" not in timer["Timer"]
    service = _unit(DEPLOY / "systemd" / f"{name}.service")
    assert service["Service"]["Type"] == "oneshot" and "Install" not in service
    assert f"/bin/campus {name.split('-')[1]}" in service["Service"]["ExecStart"]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_an_existing_campus_command_owner_only_as_the_campus_account(path):
    unit = _unit(path)
    service = unit["Service"]
    assert service["User"] == "campus" and service["UMask"] == "0077"
    assert service["EnvironmentFile"] == "/etc/campus/campus.env"
    assert service["NoNewPrivileges"] == "true" and service["ProtectSystem"] == "strict"
    words = shlex.split(service["ExecStart"])
    if words[0] == "/bin/sh":  # the backup names its folder with the date
        words = shlex.split(words[2].removeprefix("exec "))
    assert words[0] == CAMPUS
    group = typer.main.get_command(cli)
    command, options = _command(group, words[1:])
    assert command is not group, f"{path.name}: `{' '.join(words[1:])}` is not a command"
    known = {o for param in command.params for o in getattr(param, "opts", [])}
    assert set(options) <= known, f"{path.name}: unknown options {set(options) - known}"
    var = _env()["CAMPUS_VAR_DIR"]
    writable = service.get("ReadWritePaths", "") + " " + service.get("ReadOnlyPaths", "")
    assert var in writable.split() or path.name == "campus-backup.service"


def test_the_environment_example_holds_only_real_settings_and_is_production():
    env = _env()
    fields = {f"CAMPUS_{name.upper()}" for name in Settings.model_fields}
    fields |= {"CAMPUS_SPARK_URL", "PROMETHEUS_MULTIPROC_DIR"}  # read outside Settings
    assert set(env) <= fields, set(env) - fields
    assert env["CAMPUS_ENV"] == "production"
    assert env["CAMPUS_BASE_URL"].startswith("https://")
    for secret in ("CAMPUS_SECRET_KEY", "CAMPUS_PSEUDONYM_KEY", "CAMPUS_OPTOUT_KEY"):
        assert env[secret] == ""  # to be filled from the secret store, never shipped


def _nginx(text: str) -> list:
    """nginx's configuration as nested [name, args, children] lists (its own grammar:
    words, quoted strings, `;` ends a directive, `{` `}` a block, `#` a comment)."""
    tokens = re.findall(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};#]+|#[^\n]*', text)
    stack: list[list] = [[]]
    words: list[str] = []
    for token in tokens:
        if token.startswith("#"):
            continue
        if token == ";":
            stack[-1].append([words[0], words[1:], None])
            words = []
        elif token == "{":
            block: list = []
            stack[-1].append([words[0], words[1:], block])
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"directive without ';' before '}}': {words}"
            stack.pop()
        else:
            words.append(token.strip("\"'"))
    assert len(stack) == 1 and not words, "unbalanced braces or a missing ';'"
    return stack[0]


def _find(directives: list, name: str) -> list:
    return [d for d in directives if d[0] == name]


def test_nginx_proxies_to_the_app_with_a_request_id_hides_metrics_and_logs_no_paths():
    config = _nginx((DEPLOY / "nginx" / "campus.conf").read_text())
    env = _env()
    (upstream,) = _find(config, "upstream")
    assert _find(upstream[2], "server")[0][1][0] == f"{env['CAMPUS_HOST']}:{env['CAMPUS_PORT']}"
    servers = _find(config, "server")
    tls = next(s for s in servers if "ssl" in _find(s[2], "listen")[0][1])
    body = tls[2]
    headers = {d[1][0]: d[1][1] for d in _find(body, "proxy_set_header")}
    assert headers["X-Request-Id"] == "$request_id"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert _find(body, "access_log")[0][1] == ["off"]
    locations = {tuple(d[1]): d[2] for d in _find(body, "location")}
    assert _find(locations[("=", "/metrics")], "return")[0][1] == ["404"]
    for args, block in locations.items():
        if args != ("=", "/metrics"):
            assert _find(block, "proxy_pass")[0][1] == [f"http://{upstream[1][0]}"]
    upload = next(b for a, b in locations.items() if "upload" in a[-1])
    size = _find(upload, "client_max_body_size")[0][1][0]
    assert size.endswith("g") and int(size[:-1]) * 1024**3 >= Settings().max_upload_bytes
    # The app believes the forwarded headers of this proxy only.
    assert env["CAMPUS_TRUSTED_PROXIES"] == env["CAMPUS_HOST"]
