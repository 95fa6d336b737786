from django.urls import re_path

from contracts_app.api import schedules

# Solvimon versions its paths (`/v{version}/...`); the views answer 404 for any version but 1.
_V = r"^v(?P<version>[^/]+)/"
_ID = r"(?P<{}>[^/]+)"


def _versioned(route: str, view, name: str):
    """`v{version}/` + `route`, the whole path."""
    return re_path(_V + route + "$", view.as_view(), name=name)


urlpatterns = [
    _versioned(
        "pricing-plan-subscriptions", schedules.SubscriptionsApi, "api-pricing-plan-subscriptions"
    ),
    _versioned(
        "pricing-plan-subscriptions/" + _ID.format("subscription_id"),
        schedules.SubscriptionGetApi,
        "api-pricing-plan-subscription-get",
    ),
    _versioned("pricing-plan-schedules", schedules.SchedulesApi, "api-pricing-plan-schedules"),
    _versioned(
        "pricing-plan-schedules/" + _ID.format("schedule_id"),
        schedules.ScheduleGetApi,
        "api-pricing-plan-schedule-get",
    ),
    _versioned(
        "pricing-plan-schedules/" + _ID.format("schedule_id") + "/migrate",
        schedules.ScheduleMigrateApi,
        "api-pricing-plan-schedule-migrate",
    ),
]
