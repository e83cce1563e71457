"""Logs hold no e-mail address: the development console, which is the mailbox, shows a
mail's recipient masked; the tests' mailbox still knows whom each message was for."""

import logging

from campus.auth import service as auth
from campus.ops import logs
from tests.helpers import make_account


def test_a_console_mail_names_its_recipient_masked_in_every_log_format(
    db, settings, mailbox, caplog
):
    make_account(db, "ana.martin@example.org")
    with db.session() as session:
        auth.request_password_reset(session, settings, "ana.martin@example.org")
    (record,) = [r for r in caplog.records if r.name == "campus.mail"]
    plain = logging.Formatter("%(levelname)s %(message)s").format(record)
    as_json = logs.JsonFormatter().format(record)
    for line in (plain, as_json, caplog.text):
        assert "ana.martin@example.org" not in line
        assert "a***@example.org" in line
    assert "/password/reset" in mailbox.link("/password/reset", to="ana.martin@example.org")


def test_masked_keeps_the_domain_and_one_character():
    from campus.auth.mail import masked

    assert masked("ana@hopital.example") == "a***@hopital.example"
    assert masked("odd@name@example.org") == "o***@example.org"
    assert masked("no-address") == "***"
