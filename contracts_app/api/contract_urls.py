from django.urls import path

from contracts_app.api import contracts

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
        "v1/packages/listContractsOnPackage",
        contracts.ContractsOnPackageApi.as_view(),
        name="api-package-contracts",
    ),
]
