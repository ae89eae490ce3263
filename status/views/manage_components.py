"""Components and their groups: list and order, create, change, delete, set a status by hand."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.forms import add_service_errors
from status import services
from status.forms import ComponentForm, ComponentGroupForm, ComponentStatusForm
from status.models import Component, ComponentGroup, ComponentStatus
from status.views.manage_base import ManageMixin


class ComponentsView(ManageMixin, TemplateView):
    """The page's components by group, in the order the public sees them."""

    template_name = "status/manage/components.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        groups = list(self.page.groups.order_by("position", "pk"))
        components = list(self.page.components.select_related("stack").order_by("position", "pk"))
        for component in components:
            component.links = {
                "update": self.url("component-update", component=component.pk),
                "status": self.url("component-status", component=component.pk),
                "delete": self.url("component-delete", component=component.pk),
            }
        by_group = {group.pk: [] for group in groups}
        ungrouped = []
        for component in components:
            by_group.get(component.group_id, ungrouped).append(component)
        for group in groups:
            group.members = by_group[group.pk]
            group.links = {
                "update": self.url("group-update", group=group.pk),
                "delete": self.url("group-delete", group=group.pk),
            }
        context.update(
            groups=groups, ungrouped=ungrouped, component_count=len(components), statuses=ComponentStatus.choices
        )
        return context


class ComponentOrderView(ComponentsView):
    """Save the positions typed on the components list, all or nothing."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.require_manage()
        changes = []
        try:
            for model, prefix, rows in (
                (ComponentGroup, "group", self.page.groups.all()),
                (Component, "component", self.page.components.all()),
            ):
                for row in rows:
                    raw = request.POST.get(f"{prefix}-{row.pk}")
                    if raw is None or raw == "":
                        continue
                    position = int(raw)
                    if position < 0:
                        raise ValueError
                    if position != row.position:
                        changes.append((model, row, position))
        except ValueError:
            return self.render_invalid(screen_error=_("Give each position as a whole number, 0 or more."))
        with transaction.atomic():
            for model, row, position in changes:
                if model is ComponentGroup:
                    services.group_save(page=self.page, by=request.user, group=row, position=position)
                else:
                    services.component_save(page=self.page, by=request.user, component=row, position=position)
        messages.success(request, _("Order saved.") if changes else _("Nothing to reorder."))
        return redirect(self.url("components"))


class _ObjectFormView(ManageMixin, TemplateView):
    """Create or change one row of the page (a component or a group) through its service."""

    template_name = "status/manage/object_form.html"
    model: type
    form_class: type
    url_kwarg: str
    obj = None

    def get_object(self):
        if self.url_kwarg not in self.kwargs:
            return None
        return get_object_or_404(self.model.objects.filter(page=self.page), pk=self.kwargs[self.url_kwarg])

    def make_form(self, data=None):
        self.obj = self.get_object()
        # Edit a copy, so a refused change does not leak into the screen.
        instance = self.model.objects.get(pk=self.obj.pk) if self.obj else None
        return self.form_class(data, instance=instance, **self.form_kwargs())

    def form_kwargs(self) -> dict:
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(obj=self.obj, kind_label=self.kind_label, back_url=self.url("components"))
        return context

    def get(self, request, *args, **kwargs):
        self.require_manage()
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    def post(self, request, *args, **kwargs):
        self.require_manage()
        form = self.make_form(request.POST)
        if not form.is_valid():
            return self.render_invalid(form=form)
        try:
            saved = self.save(form)
        except ValidationError as error:
            add_service_errors(form, error)
            if self.obj is not None:
                # The service changed the row in memory before refusing.
                self.obj.refresh_from_db()
            return self.render_invalid(form=form)
        messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
        return redirect(self.url("components"))


class ComponentFormView(_ObjectFormView):
    model = Component
    form_class = ComponentForm
    url_kwarg = "component"
    kind_label = _("component")

    def form_kwargs(self) -> dict:
        return {"page": self.page}

    def save(self, form):
        return services.component_save(
            page=self.page, by=self.request.user, component=self.obj, **form.service_fields()
        )


class GroupFormView(_ObjectFormView):
    model = ComponentGroup
    form_class = ComponentGroupForm
    url_kwarg = "group"
    kind_label = _("group")

    def save(self, form):
        fields = {name: form.cleaned_data[name] for name in ComponentGroupForm.Meta.fields}
        return services.group_save(page=self.page, by=self.request.user, group=self.obj, **fields)


class ComponentDeleteView(ManageMixin, View):
    def post(self, request, *args, **kwargs):
        component = get_object_or_404(Component.objects.filter(page=self.page), pk=kwargs["component"])
        self.require_manage()
        services.component_delete(component=component, by=request.user)
        messages.success(request, _("Component “%(name)s” deleted.") % {"name": component.name})
        return redirect(self.url("components"))


class GroupDeleteView(ManageMixin, View):
    def post(self, request, *args, **kwargs):
        group = get_object_or_404(ComponentGroup.objects.filter(page=self.page), pk=kwargs["group"])
        self.require_manage()
        services.group_delete(group=group, by=request.user)
        messages.success(request, _("Group “%(name)s” deleted; its components stay, ungrouped.") % {"name": group.name})
        return redirect(self.url("components"))


class ComponentStatusView(ComponentsView):
    """Set a component's status by hand (those who may post incidents may do this)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        component = get_object_or_404(Component.objects.filter(page=self.page), pk=kwargs["component"])
        self.require_post()
        form = ComponentStatusForm(request.POST)
        if not form.is_valid():
            return self.render_invalid(screen_error=_("Choose one of the statuses."))
        old, new = services.component_status_set(
            component=component, status=form.cleaned_data["status"], by=request.user, why="set by hand"
        )
        if old != new:
            messages.success(
                request,
                _("%(name)s is now “%(status)s”.") % {"name": component.name, "status": ComponentStatus(new).label},
            )
        return redirect(self.url("components"))
