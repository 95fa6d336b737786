"""Detail pages with panels, and the one form → service → page path (NetBox's
`ObjectEditView`, with the service doing the write).

Convention over configuration, as NetBox's views: a page on a model (`model`, else its
`queryset`'s) needs no declaration that the model names. Its permission is
`<app_label>.<permission_action>_<model>` (a detail page "view", an edit or action "change", a
create "add"); a detail page's object is `<model_name>` in the context, read from the URL's
`<model_name>_id` and drawn by `<app_label>/<model_name>_detail.html`; a write goes back to the
object's page, `<this URL's namespace>:<model-name>-detail`. `model_name` is the class name in
snake case (RateCard: rate_card). A page that differs declares it."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from rest_framework.exceptions import ValidationError

from config.core.errors import ApplicationError, Conflict
from config.web.forms import add_errors, checked_body
from config.web.htmx import fragment_for, redirect_after_write, render_page


def model_name(model) -> str:
    """The model's name in snake case, as the pages' names use it: RateCard → "rate_card"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def model_permission(model, action: str) -> str:
    """Django's permission to `action` ("view", "add", "change") `model`."""
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def model_template(model, page: str) -> str:
    """A model's page template by the naming rule: `<app_label>/<model_name>_<page>.html`."""
    return f"{model._meta.app_label}/{model_name(model)}_{page}.html"


def model_of(view):
    """The model a page (class or instance) is about: its `model`, else its queryset's."""
    return view.model if view.model is not None else view.queryset.model


def detail_url_name(request, model) -> str:
    """The object page's URL name, in the namespace of the URL asked for:
    `contracts:customer-detail` for a Customer written from a `contracts:` page."""
    dashed = model_name(model).replace("_", "-")
    namespace = request.resolver_match.namespace
    return f"{namespace}:{dashed}-detail" if namespace else f"{dashed}-detail"


class ModelPermissionMixin(PermissionRequiredMixin):
    """Without `permission_required`, `permission_action` on the page's model (`model_of`)."""

    model = None
    permission_action = "view"

    def permission_model(self):
        return model_of(self)

    def get_permission_required(self):
        if self.permission_required is None:
            return (model_permission(self.permission_model(), self.permission_action),)
        return super().get_permission_required()


def page_view(permission: str):
    """A function page's guard, as the class pages have it: signed out, the login page; signed
    in without `permission`, 403."""

    def guard(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return guard


class ObjectDetailView(LoginRequiredMixin, ModelPermissionMixin, View):
    """One object's page made of panels. `panels` lists the inline partials htmx may ask for
    alone (by `hx-target`); each may have a `panel_<name>(obj)` method adding what it needs,
    so a panel request computes that panel only. `panel_templates` names a panel drawn by
    its own (shared) template instead of `template_name#<panel>`. Undeclared, the permission
    (view), `pk_url_kwarg`, `context_object_name` and `template_name` follow the model's name
    (the module's docstring)."""

    queryset = None
    pk_url_kwarg = ""  # default "<model_name>_id"
    context_object_name = ""  # default "<model_name>"
    template_name = ""  # default "<app_label>/<model_name>_detail.html"
    panels: tuple[str, ...] = ()
    panel_templates: dict[str, str] = {}
    bound_forms: dict = {}  # forms posted from this page that came back invalid, by name
    raise_exception = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        model = model_of(self)
        name = model_name(model)
        self.pk_url_kwarg = self.pk_url_kwarg or f"{name}_id"
        self.context_object_name = self.context_object_name or name
        self.template_name = self.template_name or model_template(model, "detail")

    def get_object(self):
        return get_object_or_404(self.queryset, pk=self.kwargs[self.pk_url_kwarg])

    def get_context_data(self, obj) -> dict:
        """What the whole page shows besides its panels."""
        return {}

    def panel_context(self, obj, panel: str) -> dict:
        method = getattr(self, "panel_" + panel.replace("-", "_"), None)
        return method(obj) if method else {}

    def page_context(self, obj) -> dict:
        """The whole page's context: the object, `get_context_data` and every panel's."""
        context = {self.context_object_name: obj, **self.get_context_data(obj)}
        for name in self.panels:
            context.update(self.panel_context(obj, name))
        return context

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        panel = fragment_for(request, self.panels)
        if panel is None:
            return render(request, self.template_name, self.page_context(obj))
        template = self.panel_templates.get(panel, f"{self.template_name}#{panel}")
        context = {self.context_object_name: obj, **self.panel_context(obj, panel)}
        return render(request, template, context)


class ServiceFormView(LoginRequiredMixin, ModelPermissionMixin, View):
    """GET: the form. POST: the bound form's `body()` is checked by the API's `serializer` (when
    set) and `perform`ed by the service; its errors come back beside the fields (200, so htmx
    swaps them in; `fragment` names the partial holding the form). Success: a redirect, or
    HX-Redirect for htmx, to `get_success_url(obj)`. A uniqueness conflict (a double submit)
    goes to the object the first submit made (`existing`).

    With `confirm_action` set, only a POST whose `_action` is that value writes; any other
    valid POST runs `preview` (which writes nothing) and shows the form with its result.

    On a model (`model`, else `conflict_model`), the permission defaults to adding one, the
    template to `<app_label>/<model_name>_new.html` and the success page to the written
    object's (`detail_url_name`)."""

    form_class = None
    template_name = ""  # default (on a model) "<app_label>/<model_name>_new.html"
    fragment: str | None = None  # the partial an htmx request gets (the form's region)
    fragments: tuple[str, ...] = ()  # partials an htmx GET may ask for by target
    serializer = None
    confirm_action: str | None = None
    success_url_name = ""  # the written object's page: reverse(success_url_name, args=[obj.pk])
    conflict_model = None  # a uniqueness conflict: go to this model's row with the body's key
    permission_action = "add"
    template_page = "new"  # the default template: <app_label>/<model_name>_<template_page>.html
    raise_exception = False

    def permission_model(self):
        return self.model or self.conflict_model

    def load(self) -> None:
        """Fetch what the URL names (runs after the login and permission checks)."""

    def get_form_kwargs(self) -> dict:
        return {}

    def get_form(self, data=None):
        return self.form_class(data, **self.get_form_kwargs())

    def body(self, form) -> dict:
        return form.body()

    def perform(self, data: dict, form):
        """Call the service with the checked body; return the object written."""
        raise NotImplementedError

    def existing(self, form):
        """The object an earlier submit with the same uniqueness key made, if any: by default
        the `conflict_model` row holding the checked body's (or the form's) `uniqueness_key`."""
        cleaned = getattr(form, "cleaned_data", None) or {}
        key = self.checked.get("uniqueness_key") or cleaned.get("uniqueness_key")
        if self.conflict_model is None or not key:
            return None
        return self.conflict_model.objects.filter(uniqueness_key=key).first()

    def get_success_url(self, obj) -> str:
        return reverse(self.success_url_name or self.object_url_name(), args=[obj.pk])

    def object_url_name(self) -> str:
        """The written object's page when `success_url_name` is not declared."""
        model = self.permission_model()
        if model is None:
            raise NotImplementedError
        return detail_url_name(self.request, model)

    def preview(self, data: dict, form) -> dict:
        """What the write would do, as extra context (with `confirm_action`)."""
        raise NotImplementedError

    def confirmed(self, form) -> bool:
        """Whether this valid POST is the confirm that writes (`_action` is `confirm_action`);
        a view may also ask that the input be the one previewed."""
        return self.request.POST.get("_action") == self.confirm_action

    def get_context_data(self, form) -> dict:
        return {"form": form}

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if not self.template_name and self.template_page and self.permission_model():
            self.template_name = model_template(self.permission_model(), self.template_page)

    def get(self, request, *args, **kwargs):
        self.load()
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        self.load()
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        if self.confirm_action and not self.confirmed(form):
            return self.render_form(form, **(self.run(self.preview, form) or {}))
        obj = self.run(self.perform, form)
        if obj is None:
            return self.render_form(form)
        return self.written(obj)

    def written(self, obj):
        """The answer to a successful write: a redirect (HX-Redirect for htmx) by default; a
        page may answer an htmx submit with its refreshed regions instead."""
        return redirect_after_write(self.request, self.get_success_url(obj))

    def run(self, call, form):
        """`call(data, form)` with the checked body; on a uniqueness conflict the object the
        first submit made; None with the errors on `form`."""
        self.checked: dict = {}  # the body as checked, for `existing`
        try:
            body = self.body(form)
            self.checked = checked_body(self.serializer, body) if self.serializer else body
            return call(self.checked, form)
        except Conflict as exc:
            found = self.existing(form) if exc.field == "uniqueness_key" else None
            if found is not None:
                return found
            add_errors(form, exc)
        except (ValidationError, ApplicationError) as exc:
            add_errors(form, exc)
        return None

    def render_form(self, form, **extra):
        context = {**self.get_context_data(form), **extra}
        return render_page(
            self.request,
            self.template_name,
            context,
            fragments=self.fragments,
            default=self.fragment if self.request.method == "POST" else None,
        )


class ObjectFormView(ServiceFormView):
    """A form posted from an object's page (`page`, an ObjectDetailView; the object is
    `self.object`). Invalid or refused: that page again, the bound form in its
    `bound_forms[form_name]` (beside the fields). Success: the object's page
    (`success_url_name`, by default the page's model's, plus `success_anchor`). The permission
    defaults to changing the page's model. With `get_anchor` set (formatted with the URL's
    kwargs), the form lives on the page only: a GET goes there, at that anchor."""

    page: type[ObjectDetailView]
    form_name = "form"
    success_anchor = ""
    get_anchor: str | None = None
    permission_action = "change"
    template_page = ""  # the page's template (`load`)

    def permission_model(self):
        return self.model or model_of(self.page)

    def load(self) -> None:
        self.detail = self.page(request=self.request, kwargs=self.kwargs)
        self.object = self.detail.get_object()
        self.template_name = self.detail.template_name

    def get(self, request, *args, **kwargs):
        if self.get_anchor is None:
            return super().get(request, *args, **kwargs)
        self.load()
        return HttpResponseRedirect(self.page_url() + self.get_anchor.format(**self.kwargs))

    def page_url(self) -> str:
        return super().get_success_url(self.object)

    def bound(self, form):
        """What the page finds under `bound_forms[form_name]` (the form by default)."""
        return form

    def get_context_data(self, form) -> dict:
        self.detail.bound_forms = {self.form_name: self.bound(form)}
        return self.detail.page_context(self.object)

    def get_success_url(self, obj) -> str:
        return self.page_url() + self.success_anchor


class ObjectActionView(ObjectDetailView):
    """A one-way button (archive): GET is the page that says what the action changes, POST
    `act`s on the object (an unknown id: 404) and goes to its page (`success_url_name`, by
    default the model's). The permission defaults to changing the model."""

    success_url_name = ""
    permission_action = "change"

    def act(self, obj) -> None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        self.act(obj)
        url_name = self.success_url_name or detail_url_name(request, model_of(self))
        return redirect_after_write(request, reverse(url_name, args=[obj.pk]))
