from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from config.api.views import api_not_found
from config.selectors import home_counts


@login_required
def home(request):
    return render(request, "core/home.html", {"counts": home_counts()})


def not_found(request, exception=None):
    if request.path.startswith("/v1/") or request.path.startswith("/v2/"):
        return api_not_found(request, exception)
    return render(request, "404.html", status=404)
