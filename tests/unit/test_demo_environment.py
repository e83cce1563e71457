"""`campus demo --host/--port`: where it listens, the base URL of its mails, its job worker."""

from __future__ import annotations

import pytest

from campus.demo import prepare_environment
from campus.governance.config import governance_settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    # The demo writes these into os.environ: set then delete each through monkeypatch, so
    # that whatever the test leaves is undone afterwards.
    for name in ("CAMPUS_HOST", "CAMPUS_PORT", "CAMPUS_BASE_URL", "CAMPUS_IN_PROCESS_WORKER"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("CAMPUS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def test_the_port_sets_where_the_demo_listens_and_the_links_of_its_mails():
    governance_settings()  # read before the demo sets its flag, as a loader would
    settings = prepare_environment(port=8123)
    assert (settings.host, settings.port) == ("127.0.0.1", 8123)
    assert settings.base_url == "http://127.0.0.1:8123"
    assert governance_settings().in_process_worker is True


def test_a_wildcard_host_gives_links_on_the_loopback_and_a_given_base_url_is_kept(monkeypatch):
    settings = prepare_environment(host="0.0.0.0", port=8124)
    assert settings.host == "0.0.0.0" and settings.base_url == "http://127.0.0.1:8124"
    monkeypatch.setenv("CAMPUS_BASE_URL", "https://campus.example")
    assert prepare_environment(port=8125).base_url == "https://campus.example"


def test_an_explicit_choice_against_the_in_process_worker_is_respected(monkeypatch):
    monkeypatch.setenv("CAMPUS_IN_PROCESS_WORKER", "false")
    prepare_environment()
    assert governance_settings().in_process_worker is False
