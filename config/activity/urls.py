from django.urls import path

from config.activity import views

app_name = "audit"
urlpatterns = [
    path("activity/", views.activity, name="activity"),
    path("activity/history/<str:resource_type>/<str:resource_id>/", views.history, name="history"),
]
