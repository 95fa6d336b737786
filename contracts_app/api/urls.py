from contracts_app.api.cohort_migration_urls import urlpatterns as cohort_migration_urlpatterns
from contracts_app.api.contract_urls import urlpatterns as contract_urlpatterns
from contracts_app.api.customer_urls import urlpatterns as customer_urlpatterns
from contracts_app.api.preview_urls import urlpatterns as preview_urlpatterns
from contracts_app.api.schedule_urls import urlpatterns as schedule_urlpatterns

urlpatterns = [
    *customer_urlpatterns,
    *contract_urlpatterns,
    *schedule_urlpatterns,
    *preview_urlpatterns,
    *cohort_migration_urlpatterns,
]
