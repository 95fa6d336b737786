""" "Fragment or full page?" decided in one place, and how a write answers.

The rule is NetBox's (`utilities/htmx.py::htmx_partial`): an htmx request wants a fragment
unless it is boosted (a boosted link or form navigates, so it gets the whole page).

Fragment convention: a region htmx swaps is an inline `{% partialdef name inline %}` in its
page's template and is rendered as `"<page>.html#name"`, so the page and the fragment cannot
drift apart. A template shared by several pages (the timeline, a form field) stays a plain file
that the pages include.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect


def htmx_partial(request) -> bool:
    """True for an htmx request that should get a fragment (htmx, and not boosted)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def fragment_for(request, fragments: Iterable[str] = (), default: str | None = None) -> str | None:
    """The partial to render: the htmx target when it is in the allow-list `fragments` (any
    client can ask for any target), else `default`; None means the full page."""
    if not htmx_partial(request):
        return None
    target = request.htmx.target
    return target if target in set(fragments) else default


def render_page(
    request,
    template: str,
    context: dict,
    *,
    fragments: Iterable[str] = (),
    default: str | None = None,
    status: int = 200,
):
    """`template`, or its inline partial chosen by `fragment_for`."""
    name = fragment_for(request, fragments, default)
    return render(request, f"{template}#{name}" if name else template, context, status=status)


def redirect_after_write(request, url: str):
    """After a successful write: a normal redirect, or for htmx a client-side one (htmx would
    otherwise follow a 302 inside its XHR and swap the next page into the form)."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
