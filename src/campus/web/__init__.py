"""The web kit: permission dependency, templates, i18n, middleware, errors, safe redirects,
dispatch, batching, page/twin helpers. It imports no capability (the site mounts them)."""
