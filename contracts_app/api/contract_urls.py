from django.urls import path

from contracts_app.api import contract_edits, contracts

urlpatterns = [
    path("v1/contracts/create", contracts.ContractCreateApi.as_view(), name="api-contract-create"),
    path("v1/contracts/get", contracts.ContractGetApi.as_view(), name="api-contract-get"),
    path("v1/contracts/list", contracts.ContractListApi.as_view(), name="api-contract-list"),
    path(
        "v1/contracts/updateEndDate",
        contracts.ContractUpdateEndDateApi.as_view(),
        name="api-contract-update-end-date",
    ),
    path(
        "v1/contracts/archive", contracts.ContractArchiveApi.as_view(), name="api-contract-archive"
    ),
    path(
        "v1/contracts/amend", contract_edits.ContractAmendApi.as_view(), name="api-contract-amend"
    ),
    path(
        "v2/contracts/edit", contract_edits.ContractEditApi.as_view(), name="api-v2-contract-edit"
    ),
    path(
        "v2/contracts/commits/edit",
        contract_edits.CommitEditApi.as_view(),
        name="api-v2-contract-commit-edit",
    ),
    path(
        "v2/contracts/credits/edit",
        contract_edits.CreditEditApi.as_view(),
        name="api-v2-contract-credit-edit",
    ),
    path(
        "v2/contracts/getEditHistory",
        contract_edits.EditHistoryApi.as_view(),
        name="api-v2-contract-edit-history",
    ),
    path("v2/contracts/get", contract_edits.ContractV2GetApi.as_view(), name="api-v2-contract-get"),
    path(
        "v2/contracts/list", contract_edits.ContractV2ListApi.as_view(), name="api-v2-contract-list"
    ),
    path(
        "v1/packages/listContractsOnPackage",
        contracts.ContractsOnPackageApi.as_view(),
        name="api-package-contracts",
    ),
]
