"""Contracts API (Metronome v1 paths): create, get, list, updateEndDate, archive, and a
package's cohort (listContractsOnPackage). Thin: validate, call a service or selector, render."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import ID_DATA, PAGE_PARAMETERS, data_of, page_of
from config.api.views_base import (
    ServicePostApi,
    data_answer,
    id_answer,
    page_answer,
    page_body,
    validated,
)
from config.core.errors import ValidationFailed
from config.core.pagination import parse_limit
from contracts_app.api.contract_edits import ContractPageApi, contract_v1_data
from contracts_app.api.contract_serializers import (
    ContractArchiveInput,
    ContractRefInput,
    ContractsOnPackageInput,
    ContractUpdateEndDateInput,
    NegotiatedContractCreateInput,
    PackageContractCreateInput,
    cohort_item,
    package_contract_input,
)
from contracts_app.api.response_serializers import CohortContractOutput, ContractOutput
from contracts_app.models import Contract
from contracts_app.selectors.contract_edits import with_edits
from contracts_app.selectors.contracts import (
    contract_get,
    contracts_covering_page,
    contracts_on_package,
    credit_type_names,
    package_get,
    package_with_terms_get,
    with_terms,
)
from contracts_app.selectors.customers import customer_get
from contracts_app.services.contracts import contract_archive, contract_update_end_date
from contracts_app.services.provisioning import contract_create_negotiated, contract_provision

KEYSET = ("starting_at", "id")

# A body naming `package_id` or `package_alias` provisions from that package; any other body
# is a negotiated contract with terms of its own.
CONTRACT_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="ContractCreateInput",
    serializers=[PackageContractCreateInput, NegotiatedContractCreateInput],
    resource_type_field_name=None,
)


class ContractCreateApi(APIView):
    required_permission = "contracts_app.add_contract"

    @extend_schema(
        operation_id="contracts_create", request=CONTRACT_CREATE_REQUEST, responses=ID_DATA
    )
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise ValidationFailed("The request body must be a JSON object", field="body")
        created_by = request.user.get_username()
        if "package_id" in body or "package_alias" in body:
            data = package_contract_input(body)
            customer = customer_get(customer_id=data["customer_id"])
            package, terms = (
                package_with_terms_get(package_id=data["package_id"])
                if "package_id" in data
                else (None, None)
            )
            contract = contract_provision(
                customer=customer,
                starting_at=data["starting_at"],
                package=package,
                package_terms=terms,
                package_alias=data.get("package_alias"),
                transition=data.get("transition"),
                uniqueness_key=data.get("uniqueness_key"),
                custom_fields=data.get("custom_fields"),
                created_by=created_by,
            )
        else:
            data = validated(NegotiatedContractCreateInput, body)
            customer = customer_get(customer_id=data["customer_id"])
            contract = contract_create_negotiated(
                customer=customer, data=data, created_by=created_by
            )
        return id_answer(contract)


class ContractGetApi(ServicePostApi):
    """A contract with its materialised terms.

    Recurring commits and credits appear as the commits / credits they generate, one per
    period. For an open-ended recurring term the periods cover one year from its start and are
    not extended afterwards (no field of the SDK's Contract can say so; the recurring term
    itself shows no `ending_before`).
    """

    required_permission = "contracts_app.view_contract"
    operation_id, input, responses = "contracts_get", ContractRefInput, data_of(ContractOutput)

    def perform(self, data):
        return contract_get(
            customer_id=data["customer_id"],
            contract_id=data["contract_id"],
            full=True,
            edits=True,
        )

    def answer(self, contract):
        return data_answer(contract_v1_data(contract, credit_type_names()))


class ContractListApi(ContractPageApi):
    """Body-cursor pages (`cursor` in, `cursor` out): the SDK's SyncBodyCursorPageCursorField."""

    operation_id, responses = "contracts_list", page_of(ContractOutput, cursor="cursor")

    def read(self, queryset):
        return with_edits(with_terms(queryset))

    def render(self, contract, names):
        return contract_v1_data(contract, names)


class _ContractChangeApi(ServicePostApi):
    # A change (`change`) of the body's contract, answered with its id.
    required_permission = "contracts_app.change_contract"
    responses = ID_DATA

    def change(self, contract: Contract, data: dict) -> None:
        raise NotImplementedError

    def perform(self, data):
        contract = contract_get(customer_id=data["customer_id"], contract_id=data["contract_id"])
        self.change(contract, data)
        return contract


class ContractUpdateEndDateApi(_ContractChangeApi):
    operation_id, input = "contracts_update_end_date", ContractUpdateEndDateInput

    def change(self, contract, data):
        contract_update_end_date(contract=contract, ending_before=data.get("ending_before"))


class ContractArchiveApi(_ContractChangeApi):
    operation_id, input = "contracts_archive", ContractArchiveInput

    def change(self, contract, data):
        contract_archive(contract=contract)


class ContractsOnPackageApi(APIView):
    """A package's cohort: keyset pages on (starting_at, id) through the contract_cohort index."""

    required_permission = "contracts_app.view_contract"

    @extend_schema(
        operation_id="packages_list_contracts_on_package",
        request=ContractsOnPackageInput,
        parameters=PAGE_PARAMETERS,
        responses=page_of(CohortContractOutput),
    )
    def post(self, request):
        data = validated(ContractsOnPackageInput, request.data)
        package = package_get(package_id=data["package_id"])
        if "covering_date" in data and "starting_at" not in data:
            page = contracts_covering_page(
                package=package,
                covering_date=data["covering_date"],
                include_archived=data["include_archived"],
                limit=parse_limit(request.query_params.get("limit"), maximum=100),
                cursor=request.query_params.get("next_page"),
            )
            return Response(page_body(page, [cohort_item(c) for c in page.items]))
        queryset = contracts_on_package(
            package=package,
            covering_date=data.get("covering_date"),
            starting_at=data.get("starting_at"),
            include_archived=data["include_archived"],
        )
        return page_answer(request, queryset, cohort_item, keys=KEYSET)
