"""The domain-neutral core: instants, billing periods, money, errors, ids, JSON and keyset paging.

Rules every app uses, free of the apps and of HTTP: it imports no app and nothing from config.api,
rest_framework or views (import-linter holds it), so every layer of every app may use it.
"""
