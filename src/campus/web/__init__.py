"""The web shell: app factory, permission dependency, templates, i18n, security headers."""
