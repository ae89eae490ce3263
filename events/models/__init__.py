from events.models.events import MediaEvent, Rebroadcast
from events.models.forecast_profiles import ForecastProfile
from events.models.timeline import TimelineEntry

__all__ = ["ForecastProfile", "MediaEvent", "Rebroadcast", "TimelineEntry"]
