"""Live room pages, under /o/<org>/events/<pk>/live/."""

from __future__ import annotations

from django.urls import path

from live import views

urlpatterns = [
    path("", views.LiveRoomView.as_view(), name="live-room"),
    path("now/", views.LiveRoomFragmentView.as_view(), name="live-room-fragment"),
    path("notes/", views.RoomNoteCreateView.as_view(), name="live-room-note"),
    path("incident/", views.IncidentDeclareView.as_view(), name="live-room-incident"),
]
