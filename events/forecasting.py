"""Django side of the forecast: build the pure model's input from an event and keep its peaks on the event."""

from __future__ import annotations

from events.forecast import Airing, Forecast, ForecastInput, compute_forecast, parameters_with
from events.models import ForecastProfile, MediaEvent


def forecast_parameters_for(organization):
    profile = ForecastProfile.objects.filter(organization=organization).first()
    return parameters_with(profile.overrides() if profile else {})


def forecast_for_event(event: MediaEvent, *, parameters=None) -> Forecast:
    """Compute the event's forecast from its audience, air window, rebroadcasts and the organization's parameters."""
    rebroadcasts = tuple(
        Airing(
            start_minute=(rebroadcast.air_start - event.air_start).total_seconds() / 60,
            audience=rebroadcast.expected_audience,
        )
        for rebroadcast in event.rebroadcasts.all()
    )
    return compute_forecast(
        ForecastInput(
            audience=event.expected_audience,
            segment_minutes=max(event.segment_minutes, 1),
            baseline_rps=float(event.stack.normal_peak_rps),
            rebroadcasts=rebroadcasts,
            parameters=parameters or forecast_parameters_for(event.organization),
        )
    )


def event_forecast_refresh(*, event: MediaEvent, parameters=None) -> Forecast:
    """Recompute the forecast and store its peaks on the event, for lists, the queue and risk."""
    forecast = forecast_for_event(event, parameters=parameters)
    MediaEvent.objects.filter(pk=event.pk).update(
        peak_visits_per_s=forecast.peak_visits_per_s.value.likely,
        peak_origin_rps=forecast.peak_origin_rps.value.likely,
        peak_origin_rps_high=forecast.peak_origin_rps.value.high,
    )
    event.peak_visits_per_s = forecast.peak_visits_per_s.value.likely
    event.peak_origin_rps = forecast.peak_origin_rps.value.likely
    event.peak_origin_rps_high = forecast.peak_origin_rps.value.high
    return forecast
