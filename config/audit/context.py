"""Who is writing, and from where: a context variable the audit trail reads at record time.

The request middleware binds the current request (its id, IP and user agent; the user and, for
the API, the token are read when an entry is recorded, after authentication has run). Management
commands and Celery tasks name their actor with `audit_actor(...)`; Celery tasks get one
automatically (`task <name>`), and a write with no context at all is attributed to the process
(`manage.py <command>`), so nothing is ever recorded without an actor.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import Any

from django.core.management.base import BaseCommand
from django.http import HttpRequest

from config.logs import task_request_id

REQUEST_ID_HEADER = "X-Request-Id"
# An incoming id is kept when it is short and plain (it is echoed and stored), else replaced.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")


@dataclass(frozen=True)
class AuditContext:
    channel: str
    request: HttpRequest | None = None
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    user: Any = None  # an explicit actor (audit_actor); else the request's user
    name: str = ""


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    email: str
    token_id: int | None
    token_prefix: str
    channel: str


_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)
# Writes made outside any request or task (a management command's run) share this id.
PROCESS_RUN_ID = uuid.uuid4().hex
# Every management command runs through BaseCommand.execute (manage.py and call_command alike).
_COMMAND_EXECUTE = BaseCommand.execute.__code__


def request_id_from(raw: str | None) -> str:
    """The caller's `X-Request-Id` when sane, else a fresh one."""
    if raw and _SANE_REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def _client_ip(request: HttpRequest) -> str | None:
    import ipaddress

    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def bind_request(request: HttpRequest, request_id: str) -> Token:
    channel = "admin" if request.path.startswith("/admin/") else "web"
    return _current.set(
        AuditContext(
            channel=channel,
            request=request,
            request_id=request_id,
            ip=_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        )
    )


def unbind(token: Token) -> None:
    _current.reset(token)


def current() -> AuditContext | None:
    return _current.get()


@contextlib.contextmanager
def audit_actor(
    user: Any = None, *, name: str = "", channel: str = "system", request_id: str = ""
) -> Iterator[AuditContext]:
    """Attribute the writes inside the block to `user` (or to a named system actor).

    For management commands and Celery tasks. Inside a request or a task, that context's
    channel, request id, IP and user agent are kept; only the actor changes.
    """
    outer = _current.get()
    if outer is not None:
        context = replace(outer, user=user, name=name, request_id=request_id or outer.request_id)
    else:
        context = AuditContext(
            channel=channel, user=user, name=name, request_id=request_id or PROCESS_RUN_ID
        )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def _running_command() -> str:
    """The management command on the stack ("seed_demo"), however it was started: `manage.py`,
    `call_command` from a script or `python -c`; empty when none runs. Only the writes made
    outside any request or task ask, and only a code object is compared per frame."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _COMMAND_EXECUTE:
            command = frame.f_locals.get("self")
            return type(command).__module__.rsplit(".", 1)[-1] if command is not None else ""
        frame = frame.f_back
    return ""


def _process_name() -> str:
    """A process's writes: "manage.py <command>" while a management command runs, else the
    program ("celery", "python -c"), never an interpreter flag alone."""
    command = _running_command()
    if command:
        return f"manage.py {command}"
    argv = sys.argv or ["python"]
    program = os.path.basename(argv[0])
    if program == "manage.py" or program == "django-admin":
        return " ".join([program, *argv[1:2]])
    if program.startswith("-"):  # `python -c …` (argv[0] is "-c"), `python -m …`
        return f"python {program}"
    return program or "system"


def _user_actor(user: Any) -> tuple[int | None, str, str]:
    name = (user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username()
    return user.pk, name, getattr(user, "email", "") or ""


# What a request's `auth` is when an API token authenticated it; config.api registers its token
# model in ApiConfig.ready(), so the audit plumbing imports nothing of the API.
_token_types: tuple[type, ...] = ()


def register_token_type(token_type: type) -> None:
    global _token_types
    if token_type not in _token_types:
        _token_types = (*_token_types, token_type)


def context_request_id() -> str:
    """The request (or task) id the current audit context carries; empty outside one."""
    context = _current.get()
    return context.request_id if context is not None else ""


def current_actor() -> tuple[Actor, AuditContext | None]:
    """The actor writing now, resolved from the context (no query: the user is loaded already)."""
    context = _current.get()
    if context is None:
        return Actor(None, _process_name(), "", None, "", "system"), None
    token = None
    user = context.user
    channel = context.channel
    request = context.request
    if user is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            user = request_user
        auth = getattr(request, "auth", None)
        if _token_types and isinstance(auth, _token_types):
            token = auth
            channel = "api"
        elif not request.path.startswith("/admin/") and request.path.startswith("/v"):
            channel = "api"
    if user is not None:
        user_id, name, email = _user_actor(user)
    else:
        user_id, name, email = None, context.name or _process_name(), ""
    return (
        Actor(
            user_id=user_id,
            name=name[:200],
            email=email,
            token_id=token.pk if token else None,
            token_prefix=token.key_prefix if token else "",
            channel=channel,
        ),
        context,
    )


# --- Celery: every task runs as "task <name>", its id standing in for a request id. ---
_task_tokens: dict[str, Token] = {}


def _task_started(task_id=None, task=None, **_kwargs) -> None:
    if task_id is None or task is None:
        return
    # The queuing request's id when it sent one (config.logs stamps it), else the task's own.
    request_id = task_request_id(task) or task_id
    _task_tokens[task_id] = _current.set(
        AuditContext(channel="task", name=f"task {task.name}", request_id=request_id)
    )


def _task_finished(task_id=None, **_kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        with contextlib.suppress(ValueError):
            _current.reset(token)


def connect_celery_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="audit_task_started")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="audit_task_finished")
