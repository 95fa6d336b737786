"""The domain-neutral core: instants, billing periods, errors, ids, JSON and keyset paging.

It imports no app and nothing from the HTTP layer (config.api, rest_framework, views), so every
layer of every app may use it.
"""
