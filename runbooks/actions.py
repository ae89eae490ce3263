"""The portal actions an automated step calls: each goes through its app's own service, which keeps its rules.

``perform`` returns the output a person reads and a small JSON result (ids of what it made). Every refusal
of a service (a plan not approved, no status page, a locked event) becomes ``ActionFailed`` with a message
an engineer can act on; the step can then be retried.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.exceptions import Conflict
from runbooks.models import AutomatedRun, RunbookStep

Action = RunbookStep.Action


class ActionFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _event(run: AutomatedRun):
    event = run.execution.event
    if event is None:
        raise ActionFailed(_("This action needs an event; the execution follows an incident."))
    return event


def _plan(run: AutomatedRun):
    from scaling.models import ScalingPlan

    plan = ScalingPlan.objects.filter(event=_event(run)).exclude(status=ScalingPlan.Status.CANCELLED).first()
    if plan is None:
        raise ActionFailed(_("The event has no scaling plan: make and approve one first."))
    return plan


def _status_page(run: AutomatedRun):
    from status.models import StatusPage

    page = StatusPage.objects.filter(organization=run.execution.organization).order_by("pk").first()
    if page is None:
        raise ActionFailed(_("The organization has no status page."))
    return page


def _open_incident(run: AutomatedRun):
    from status.models import UNRESOLVED_STATUSES, Incident

    if run.execution.incident_id:
        return run.execution.incident
    incident = (
        Incident.objects.filter(
            page=_status_page(run), kind=Incident.Kind.INCIDENT, status__in=UNRESOLVED_STATUSES, is_draft=False
        )
        .order_by("-started_at")
        .first()
    )
    if incident is None:
        raise ActionFailed(_("There is no open incident to update."))
    return incident


def run_readiness(run: AutomatedRun) -> tuple[str, dict]:
    from readiness.services import run_start

    readiness = run_start(event=_event(run), by=run.requested_by)
    return _("Readiness run #%(id)d started with %(n)d checks.") % {
        "id": readiness.pk,
        "n": readiness.total_checks,
    }, {"readiness_run": readiness.pk}


def apply_plan(run: AutomatedRun) -> tuple[str, dict]:
    from scaling.services import plan_apply

    plan = plan_apply(plan=_plan(run), by=run.requested_by)
    return _("Scaling plan #%(id)d is %(status)s.") % {
        "id": plan.pk,
        "status": plan.get_status_display().lower(),
    }, {"scaling_plan": plan.pk}


def _scale(run: AutomatedRun, *, revert: bool) -> tuple[str, dict]:
    from scaling.services import plan_scale_now

    plan = plan_scale_now(plan=_plan(run), by=run.requested_by, revert=revert)
    done = _("Capacity set back to before the plan.") if revert else _("Capacity set to the plan's targets.")
    return f"{done} (#{plan.pk})", {"scaling_plan": plan.pk}


def open_incident(run: AutomatedRun) -> tuple[str, dict]:
    from status.services import incident_create

    page = _status_page(run)
    event = run.execution.event
    name = run.step.command or (
        _("Slower responses during %(event)s") % {"event": event.title} if event else _("Degraded performance")
    )
    body = _("We are seeing slower responses than usual and are working on it. Next update within 15 minutes.")
    incident = incident_create(page=page, by=run.requested_by, name=name, body=body)
    return _("Incident “%(name)s” opened on %(page)s.") % {"name": incident.name, "page": page.name}, {
        "incident": incident.pk
    }


UPDATE_BODIES = {
    "identified": gettext_lazy("We found the cause and are applying a fix."),
    "monitoring": gettext_lazy("A fix is in place and we are watching the results."),
    "resolved": gettext_lazy("This incident is resolved: everything works normally."),
}


def post_status_update(run: AutomatedRun) -> tuple[str, dict]:
    from status.services import incident_update_post

    status = run.step.command or "monitoring"
    if status not in UPDATE_BODIES:
        raise ActionFailed(_("The step asks for an unknown incident status: %(status)s.") % {"status": status})
    incident = _open_incident(run)
    update = incident_update_post(
        incident=incident, by=run.requested_by, status=status, body=str(UPDATE_BODIES[status])
    )
    return _("Update posted on “%(name)s”: %(status)s.") % {"name": incident.name, "status": status}, {
        "incident_update": update.pk
    }


def notify_client(run: AutomatedRun) -> tuple[str, dict]:
    from accounts.models import Membership
    from notifications.services import email_send

    organization = run.execution.organization
    owners = Membership.objects.filter(organization=organization, role=Membership.Role.OWNER).values_list(
        "user__email", flat=True
    )
    recipients = sorted({organization.contact_email, *owners} - {""})
    if not recipients:
        raise ActionFailed(_("The organization has no contact address."))
    email_send(
        to=recipients,
        template="runbooks/email/client_notice",
        context={"execution": run.execution, "step": run.step, "organization": organization},
    )
    return _("Client notified: %(to)s.") % {"to": ", ".join(recipients)}, {"recipients": recipients}


ACTIONS: dict[str, Callable[[AutomatedRun], tuple[str, dict]]] = {
    Action.RUN_READINESS: run_readiness,
    Action.APPLY_PLAN: apply_plan,
    Action.SCALE_NOW: lambda run: _scale(run, revert=False),
    Action.REVERT_NOW: lambda run: _scale(run, revert=True),
    Action.OPEN_INCIDENT: open_incident,
    Action.POST_STATUS_UPDATE: post_status_update,
    Action.NOTIFY_CLIENT: notify_client,
}


def perform(run: AutomatedRun) -> tuple[str, dict]:
    """Call the step's portal action; refusals become ``ActionFailed``."""
    try:
        return ACTIONS[run.step.action](run)
    except Conflict as error:
        raise ActionFailed(error.message) from error
    except ValidationError as error:
        raise ActionFailed(" ".join(error.messages)) from error
    except PermissionDenied as error:
        raise ActionFailed(str(error) or _("Not allowed.")) from error
