"""`campus doctor`: check a configuration end to end and say what to fix.

It tries what the running platform will do: connect to the database and compare its schema
with the migrations, open the warehouse folder, check file modes, read the keys, talk to the
SMTP server up to STARTTLS and login, fetch the OpenID Connect discovery document, reach the
Spark master. Each finding says what is wrong and what to do; nothing is changed.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from urllib.parse import urlsplit

from sqlalchemy import Engine

from campus.ops import files, health
from campus.ops.health import Check
from campus.settings import SECRET_NAMES, ConfigurationError, Settings

TIMEOUT = 10.0  # seconds for each network check


def configuration(settings: Settings) -> Check:
    try:
        settings.check_production()
    except ConfigurationError as error:
        found = str(error).split("\n- ")[1:]
        return Check("configuration", False, "; ".join(found), "set the variables named")
    if not settings.is_production:
        return Check("configuration", True, f"CAMPUS_ENV={settings.env} (not production)")
    return Check("configuration", True)


def keys(settings: Settings) -> Check:
    generated = [n for n in SECRET_NAMES if n in settings.generated_secrets]
    if generated and settings.is_production:
        names = ", ".join(f"CAMPUS_{n.upper()}" for n in generated)
        return Check(
            "keys",
            False,
            f"{names} not given: generated keys under var/secrets would be lost with var/",
            "set them from your secret store; back them up apart from the data backups",
        )
    if generated:
        return Check("keys", True, f"generated under var/secrets: {', '.join(generated)}")
    return Check("keys", True)


def file_modes(settings: Settings) -> Check:
    found = files.problems(settings)
    if found:
        return Check("file modes", False, found[0].split(". Fix: ")[0], found[0].split("Fix: ")[1])
    return Check("file modes", True)


def smtp(settings: Settings) -> Check:
    if not settings.smtp_host:
        if settings.is_production:
            return Check(
                "smtp",
                False,
                "CAMPUS_SMTP_HOST is not set: sign-up, invitation and reset mail is never sent",
                "set CAMPUS_SMTP_HOST (and _PORT, _USER, _PASSWORD)",
            )
        return Check("smtp", True, "not set: mail stays in the outbox and the console")
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as server:
            server.ehlo()
            if not server.has_extn("starttls"):
                return Check(
                    "smtp",
                    False,
                    f"{where} does not offer STARTTLS, which Campus requires",
                    "use the relay's submission port (587) with STARTTLS",
                )
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
            if settings.smtp_user and settings.smtp_password:
                server.login(settings.smtp_user, settings.smtp_password.get_secret_value())
    except smtplib.SMTPAuthenticationError:
        return Check(
            "smtp", False, f"{where} refused the login", "check CAMPUS_SMTP_USER and _PASSWORD"
        )
    except (OSError, smtplib.SMTPException) as error:
        return Check(
            "smtp",
            False,
            f"{where} cannot be used ({type(error).__name__}: {error})"[:300],
            "check CAMPUS_SMTP_HOST and CAMPUS_SMTP_PORT, and that this host may reach it",
        )
    return Check("smtp", True, where)


def oidc(settings: Settings) -> Check:
    if not settings.oidc_issuer:
        return Check("oidc", True, "not set: local accounts only")
    from campus.auth import oidc as provider

    provider.clear_caches()
    try:
        found = provider.provider(settings)
    except provider.OidcError as error:
        return Check(
            "oidc",
            False,
            f"discovery at {settings.oidc_issuer} failed ({error.code})",
            "check CAMPUS_OIDC_ISSUER (the issuer URL, without /.well-known) and the network",
        )
    return Check("oidc", True, found.issuer)


def spark(spark_url: str | None = None) -> Check:
    url = spark_url if spark_url is not None else os.environ.get("CAMPUS_SPARK_URL", "")
    if not url:
        return Check("spark", True, "not set: views run on DuckDB (Spark in local mode on demand)")
    if url.startswith("local"):
        return Check("spark", True, url)
    parts = urlsplit(url)
    if parts.scheme != "spark" or not parts.hostname:
        return Check(
            "spark", False, f"{url} is not a spark://host:port URL", "fix CAMPUS_SPARK_URL"
        )
    port = parts.port or 7077
    try:
        socket.create_connection((parts.hostname, port), timeout=TIMEOUT).close()
    except OSError as error:
        return Check(
            "spark",
            False,
            f"the Spark master {parts.hostname}:{port} cannot be reached ({error.strerror})",
            "start the master or fix CAMPUS_SPARK_URL",
        )
    return Check("spark", True, f"{parts.hostname}:{port}")


def run(settings: Settings, engine: Engine) -> list[Check]:
    """Every check, in the order an operator fixes them."""
    found = [configuration(settings), keys(settings), file_modes(settings)]
    db = health.database(engine)
    found.append(db)
    if db.ok:
        found.append(health.migrations(engine))
    found.append(health.warehouse(settings))
    found += [smtp(settings), oidc(settings), spark()]
    if db.ok:
        found.append(health.worker(engine))
    return found
