"""Accounts, login with throttling, sessions, API tokens, roles and password reset: one module
for each (accounts, sessions, tokens, reset); this module names what the rest of Campus calls."""

from campus.auth.accounts import (  # noqa: F401
    ACCOUNT_FAILURE_FACTOR,
    ADDRESS_FAILURE_FACTOR,
    EMAIL_RE,
    LANGUAGES,
    AuthError,
    actor_for,
    check_profile,
    create_account,
    find_account,
    get_account,
    grant_role,
    normalise_email,
    revoke_role,
    set_language,
)
from campus.auth.reset import (  # noqa: F401
    request_password_reset,
    reset_password,
)
from campus.auth.sessions import (  # noqa: F401
    OpenedSession,
    login,
    logout,
    open_session,
    purge_expired_sessions,
    resolve_session,
)
from campus.auth.tokens import (  # noqa: F401
    TOKEN_PREFIX,
    TOKEN_USE_INTERVAL,
    TokenRead,
    create_token,
    list_tokens,
    read_token,
    record_token_use,
    revoke_token,
)
