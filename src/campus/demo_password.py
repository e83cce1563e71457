"""The demo accounts' password: one constant below every capability, so that a capability's
demo loader (people of the directory) and the site's `campus demo` share it."""

DEMO_PASSWORD = "campus-demo-2026"  # noqa: S105 - documented demo password, dev only
