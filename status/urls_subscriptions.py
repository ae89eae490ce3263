"""Public subscription routes of one status page (subscribe, confirm, unsubscribe), under the page's root."""

from django.urls import path

from status import views_subscriptions as views

urlpatterns = [
    path("subscribe/", views.subscribe, name="status-subscribe"),
    path("subscriptions/<str:token>/confirm/", views.confirm, name="status-subscription-confirm"),
    path("subscriptions/<str:token>/unsubscribe/", views.unsubscribe, name="status-subscription-unsubscribe"),
]
