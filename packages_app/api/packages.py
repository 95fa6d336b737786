"""`v1/packages/create|get|list|archive` (Metronome v1). Thin: validate, call a service or
selector, shape the answer. No update endpoint: packages are immutable.

get and list answer with the JSON text PostgreSQL builds for each package (selectors/packages.py),
spliced into the envelope as it is: decoding and encoding it again in Python would cost more
than the rest of the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.http import HttpResponse

from config.api.schema import ID_DATA, PAGE_PARAMETERS, data_of, page_of
from config.api.views_base import ServicePostApi
from config.core.pagination import parse_limit
from packages_app.api import package_serializers as wire
from packages_app.api.response_serializers import PackageOutput
from packages_app.selectors.packages import (
    AnswerRow,
    package_answer,
    package_answer_page,
    package_get,
)
from packages_app.services.packages import package_archive, package_create, package_wires_fill


def json_response(text: str) -> HttpResponse:
    return HttpResponse(text.encode(), content_type="application/json")


def answer_texts(rows: Iterable[AnswerRow]) -> list[str]:
    """The answers of the rows, rendering first those of packages that have no wire yet."""
    rows = list(rows)
    missing = [package_id for _, package_id, answer in rows if answer is None]
    filled = package_wires_fill(package_ids=missing) if missing else {}
    return [answer if answer is not None else filled[package_id] for _, package_id, answer in rows]


class PackageCreateApi(ServicePostApi):
    required_permission = "packages_app.add_package"
    operation_id, input, responses = "packages_create", wire.PackageCreateInput, ID_DATA

    def perform(self, data):
        return package_create(created_by=self.request.user.get_username(), **data)


class PackageGetApi(ServicePostApi):
    required_permission = "packages_app.view_package"
    operation_id, input, responses = "packages_get", wire.PackageIdInput, data_of(PackageOutput)

    def perform(self, data):
        return package_answer(package_id=data["package_id"])

    def answer(self, row):
        (answer,) = answer_texts([row])
        return json_response(f'{{"data":{answer}}}')


class PackageListApi(ServicePostApi):
    required_permission = "packages_app.view_package"
    operation_id, input, responses = "packages_list", wire.PackageListInput, page_of(PackageOutput)
    parameters = PAGE_PARAMETERS

    def perform(self, data):
        return package_answer_page(
            archive_filter=data.get("archive_filter", "NOT_ARCHIVED"),
            limit=parse_limit(self.request.query_params.get("limit")),
            cursor=self.request.query_params.get("next_page"),
        )

    def answer(self, page):
        items = ",".join(answer_texts(page.items))
        return json_response(f'{{"data":[{items}],"next_page":{json.dumps(page.next_cursor)}}}')


class PackageArchiveApi(ServicePostApi):
    required_permission = "packages_app.change_package"
    operation_id, input, responses = "packages_archive", wire.PackageIdInput, ID_DATA

    def perform(self, data):
        return package_archive(package=package_get(package_id=data["package_id"]))
