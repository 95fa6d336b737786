"""The domain-neutral core: rules every app uses, free of the apps and of HTTP (import-linter
holds it: no app, no config.api, no DRF)."""
