"""Detail pages with panels, and the one form → service → page path (NetBox's
`ObjectEditView`, with the service doing the write)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View
from rest_framework.exceptions import ValidationError

from config.core.errors import ApplicationError, Conflict
from config.web.forms import add_errors, checked_body
from config.web.htmx import fragment_for, redirect_after_write, render_page


def page_view(permission: str):
    """A function page's guard, as the class pages have it: signed out, the login page; signed
    in without `permission`, 403."""

    def guard(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return guard


class ObjectDetailView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """One object's page made of panels. `panels` lists the inline partials htmx may ask for
    alone (by `hx-target`); each may have a `panel_<name>(obj)` method adding what it needs,
    so a panel request computes that panel only. `panel_templates` names a panel drawn by
    its own (shared) template instead of `template_name#<panel>`."""

    queryset = None
    pk_url_kwarg = "pk"
    context_object_name = "object"
    template_name = ""
    panels: tuple[str, ...] = ()
    panel_templates: dict[str, str] = {}
    bound_forms: dict = {}  # forms posted from this page that came back invalid, by name
    raise_exception = False

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


class ServiceFormView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """GET: the form. POST: the bound form's `body()` is checked by the API's `serializer` (when
    set) and `perform`ed by the service; its errors come back beside the fields (200, so htmx
    swaps them in; `fragment` names the partial holding the form). Success: a redirect, or
    HX-Redirect for htmx, to `get_success_url(obj)`. A uniqueness conflict (a double submit)
    goes to the object the first submit made (`existing`).

    With `confirm_action` set, only a POST whose `_action` is that value writes; any other
    valid POST runs `preview` (which writes nothing) and shows the form with its result."""

    form_class = None
    template_name = ""
    fragment: str | None = None  # the partial an htmx request gets (the form's region)
    fragments: tuple[str, ...] = ()  # partials an htmx GET may ask for by target
    serializer = None
    confirm_action: str | None = None
    success_url_name = ""  # the written object's page: reverse(success_url_name, args=[obj.pk])
    conflict_model = None  # a uniqueness conflict: go to this model's row with the body's key
    raise_exception = False

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
        if not self.success_url_name:
            raise NotImplementedError
        return reverse(self.success_url_name, args=[obj.pk])

    def preview(self, data: dict, form) -> dict:
        """What the write would do, as extra context (with `confirm_action`)."""
        raise NotImplementedError

    def confirmed(self, form) -> bool:
        """Whether this valid POST is the confirm that writes (`_action` is `confirm_action`);
        a view may also ask that the input be the one previewed."""
        return self.request.POST.get("_action") == self.confirm_action

    def get_context_data(self, form) -> dict:
        return {"form": form}

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
    (`success_url_name`, plus `success_anchor`)."""

    page: type[ObjectDetailView]
    form_name = "form"
    success_anchor = ""

    def load(self) -> None:
        self.detail = self.page(request=self.request, kwargs=self.kwargs)
        self.object = self.detail.get_object()
        self.template_name = self.page.template_name

    def bound(self, form):
        """What the page finds under `bound_forms[form_name]` (the form by default)."""
        return form

    def get_context_data(self, form) -> dict:
        self.detail.bound_forms = {self.form_name: self.bound(form)}
        return self.detail.page_context(self.object)

    def get_success_url(self, obj) -> str:
        return reverse(self.success_url_name, args=[self.object.pk]) + self.success_anchor


class ObjectActionView(ObjectDetailView):
    """A one-way button (archive): GET is the page that says what the action changes, POST
    `act`s on the object (an unknown id: 404) and goes to its page (`success_url_name`)."""

    success_url_name = ""

    def act(self, obj) -> None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        self.act(obj)
        return redirect_after_write(request, reverse(self.success_url_name, args=[obj.pk]))
