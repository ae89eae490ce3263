from __future__ import annotations

from django.urls import reverse
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from tests.conftest import api_client_for


def test_api_callers_are_throttled_per_user(personas, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"})
    client = api_client_for(personas.member)
    codes = [client.get(reverse("api:me")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "throttled" in client.get(reverse("api:me")).json()["detail"]
    # Another user has a budget of their own.
    assert api_client_for(personas.owner).get(reverse("api:me")).status_code == 200
