"""The "what happens next" panel: one plain sentence for the person looking, by status."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from events.models import MediaEvent

Status = MediaEvent.Status


def next_steps(event: MediaEvent, *, user, now) -> list[str]:
    """Return what happens next for this event, in the order it happens."""
    engineer = event.assignee.display_name if event.assignee else _("an engineer")
    air = date_format(localtime(event.air_start), "DATETIME_FORMAT")
    tail_end = date_format(localtime(event.tail_end), "DATETIME_FORMAT")
    steps = {
        Status.DRAFT: [
            _("Check the details and the forecast below, then submit the booking."),
            _("Until an engineer accepts it, you can change everything freely."),
        ],
        Status.SUBMITTED: [
            _("The provider's engineers review the booking and one of them takes it."),
            _("You can still change the details; the engineers see every change in the timeline."),
        ],
        Status.ACCEPTED: [
            _("%(engineer)s prepares: readiness checks of the site and the AWS account, then a scaling plan.")
            % {"engineer": engineer},
            _("A change to the event now re-opens the review."),
        ],
        Status.PREPARING: [
            _("%(engineer)s is running the readiness checks and preparing the scaling plan.") % {"engineer": engineer},
            _("The event is marked ready when capacity is planned for the forecast's high band."),
        ],
        Status.READY: [
            _("Everything is in place. The event goes on air by itself at %(air)s.") % {"air": air},
            _("The live room opens an hour before; %(engineer)s watches the air window.") % {"engineer": engineer},
        ],
        Status.ON_AIR: [
            _("On air. The engineers watch the traffic against the forecast."),
            _("The event completes by itself at %(end)s, once the tail has passed.") % {"end": tail_end},
        ],
        Status.COMPLETED: [_("The engineers compare the forecast with what happened and write the event report.")],
        Status.REVIEWED: [_("Reviewed. Its figures calibrate the next forecasts.")],
        Status.CANCELLED: [_("Cancelled. Nothing more happens for this event.")],
    }
    return steps[Status(event.status)]
