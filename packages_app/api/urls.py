from packages_app.api.catalog_urls import urlpatterns as catalog_urlpatterns
from packages_app.api.package_urls import urlpatterns as package_urlpatterns

urlpatterns = [*catalog_urlpatterns, *package_urlpatterns]
