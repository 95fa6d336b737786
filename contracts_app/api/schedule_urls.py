from django.urls import re_path

from contracts_app.api import schedules

# Solvimon versions its paths (`/v{version}/...`); the views answer 404 for any version but 1.
_V = r"^v(?P<version>[^/]+)/"
_ID = r"(?P<{}>[^/]+)"

urlpatterns = [
    re_path(
        _V + r"pricing-plan-subscriptions$",
        schedules.SubscriptionsApi.as_view(),
        name="api-pricing-plan-subscriptions",
    ),
    re_path(
        _V + r"pricing-plan-subscriptions/" + _ID.format("subscription_id") + "$",
        schedules.SubscriptionGetApi.as_view(),
        name="api-pricing-plan-subscription-get",
    ),
    re_path(
        _V + r"pricing-plan-schedules$",
        schedules.SchedulesApi.as_view(),
        name="api-pricing-plan-schedules",
    ),
    re_path(
        _V + r"pricing-plan-schedules/" + _ID.format("schedule_id") + "$",
        schedules.ScheduleGetApi.as_view(),
        name="api-pricing-plan-schedule-get",
    ),
    re_path(
        _V + r"pricing-plan-schedules/" + _ID.format("schedule_id") + r"/migrate$",
        schedules.ScheduleMigrateApi.as_view(),
        name="api-pricing-plan-schedule-migrate",
    ),
]
