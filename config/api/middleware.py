"""`X-Query-Count` on every response when QUERY_COUNT_HEADER=1 (benchmarks read it over HTTP)."""

from django.db import connection


class QueryCountHeaderMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(count)
        return response


class RequestBodyLimitMiddleware:
    """Per-endpoint request body limits, answered as a 413 naming the limit.

    `DATA_UPLOAD_MAX_MEMORY_SIZE` is only the ceiling (the largest endpoint limit): an endpoint
    whose documented inputs need a big body (100,000 customer ids) says so with a
    `max_body_bytes` attribute; every other endpoint keeps `REQUEST_BODY_MAX_BYTES`. Checked in
    process_view, before CSRF or a parser reads the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.conf import settings
        from django.http import HttpResponse, JsonResponse

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        view_class = getattr(view_func, "cls", view_func)
        limit = getattr(view_class, "max_body_bytes", None) or settings.REQUEST_BODY_MAX_BYTES
        if length <= limit:
            return None
        message = (
            f"The request body ({length} bytes) is over this endpoint's limit of {limit} bytes"
        )
        if request.path.startswith(("/v1/", "/v2/")):
            return JsonResponse({"message": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain")
