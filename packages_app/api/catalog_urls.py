from django.urls import path

from packages_app.api import credit_types

urlpatterns = [
    path("v1/credit-types/create", credit_types.CreditTypeCreateApi.as_view()),
    path("v1/credit-types/list", credit_types.CreditTypeListApi.as_view()),
]
