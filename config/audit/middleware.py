"""Gives every request an id (`X-Request-Id`, echoed) and binds it to the audit context."""

from config.audit.context import REQUEST_ID_HEADER, bind_request, request_id_from, unbind
from config.logs import bind_request_id_for_logs


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        bind_request_id_for_logs(request_id)
        token = bind_request(request, request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
