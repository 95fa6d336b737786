"""`POST /v1/packages/preview` (ours): the contract provisioning would create, nothing written.

The body is either `{"package_id", "starting_at"}` or a whole `packages/create` body plus
`starting_at`; the answer is the contract shaped as `contracts/get` shows one, without `id`
and `customer_id` (nothing was created; `package_id` only when one was given). The builder's live preview runs the same service.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.views_base import validated
from config.core.errors import ValidationFailed
from contracts_app.api.contract_serializers import contract_data
from contracts_app.selectors.contracts import credit_type_names, package_get
from contracts_app.services.previews import package_contract_dry_run
from packages_app.api.package_serializers import PackageCreateInput


class PackagePreviewInput(PackageCreateInput):
    """A `packages/create` body (name required) or just `package_id`, plus `starting_at`."""

    starting_at = serializers.DateTimeField()
    package_id = serializers.CharField(required=False)

    def __init__(self, *args, by_id: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if by_id:
            for name in list(self.fields):
                if name not in ("package_id", "starting_at"):
                    del self.fields[name]
            self.fields["package_id"].required = True


class PackagePreviewApi(APIView):
    required_permission = "packages_app.view_package"

    @extend_schema(
        operation_id="packages_preview",
        request=PackagePreviewInput,
        responses={
            200: inline_serializer(
                "ContractsPackagePreviewResponse",
                {
                    "data": serializers.DictField(
                        help_text="The contract, as contracts/get shows it"
                    )
                },
            )
        },
        description=__doc__,
    )
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise ValidationFailed("The request body must be a JSON object", field="body")
        if "package_id" in body:
            data = validated(_ById, body)
            contract = package_contract_dry_run(
                starting_at=data["starting_at"],
                package=package_get(package_id=data["package_id"]),
            )
        else:
            data = validated(PackagePreviewInput, body)
            starting_at = data.pop("starting_at")
            data.pop("package_id", None)
            contract = package_contract_dry_run(
                starting_at=starting_at, body=data, created_by=request.user.get_username()
            )
        answer = contract_data(contract, credit_type_names())
        # Nothing was created: no contract or customer id, and no package id for a body.
        for key in ("id", "customer_id", *(() if "package_id" in body else ("package_id",))):
            answer.pop(key, None)
        return Response({"data": answer})


class _ById(PackagePreviewInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, by_id=True, **kwargs)
