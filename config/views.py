from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

from config.api.views import api_not_found


def _is_api(request) -> bool:
    return request.path.startswith(("/v1/", "/v2/"))


def not_found(request, exception=None):
    if _is_api(request):
        return api_not_found(request, exception)
    return render(request, "404.html", status=404)


def bad_request(request, exception=None):
    """Errors Django raises before a view runs (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    if _is_api(request):
        return JsonResponse(
            {"message": f"Bad request: {exception or 'malformed request'}"}, status=400
        )
    return defaults.bad_request(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"message": "Internal server error; it has been logged."}, status=500)
    return defaults.server_error(request)
