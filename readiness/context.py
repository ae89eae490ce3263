from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cloud.models import CloudAccount, StackResource
from events.forecast import Forecast
from events.forecasting import forecast_for_event
from events.models import MediaEvent


@dataclass
class CheckContext:
    """What every check may look at: the event, its stack and resources, the forecast, the AWS link."""

    event: MediaEvent

    @property
    def stack(self):
        return self.event.stack

    @cached_property
    def forecast(self) -> Forecast:
        return forecast_for_event(self.event)

    @cached_property
    def resources(self) -> list[StackResource]:
        return list(StackResource.objects.filter(stack=self.event.stack_id))

    @cached_property
    def account(self) -> CloudAccount | None:
        return CloudAccount.objects.filter(organization=self.event.organization_id).first()

    @cached_property
    def landing_urls(self) -> list[str]:
        return list(dict.fromkeys(self.event.landing_urls or self.event.stack.landing_urls))

    def resources_of(self, *kinds: str) -> list[StackResource]:
        return [resource for resource in self.resources if resource.kind in kinds]
