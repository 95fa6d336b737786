from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.views_base import page_body, query_page, validated
from packages_app.models import CreditType
from packages_app.services.credit_types import credit_type_create


class CreditTypeCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)


def credit_type_data(credit_type: CreditType) -> dict:
    return {
        "id": str(credit_type.id),
        "name": credit_type.name,
        "is_currency": credit_type.is_currency,
    }


class CreditTypeCreateApi(APIView):
    required_permission = "packages_app.add_credittype"

    def post(self, request):
        data = validated(CreditTypeCreateInput, request.data)
        credit_type = credit_type_create(name=data["name"])
        return Response({"data": {"id": str(credit_type.id)}})


class CreditTypeListApi(APIView):
    required_permission = "packages_app.view_credittype"

    def get(self, request):
        page = query_page(request, CreditType.objects.all())
        return Response(page_body(page, [credit_type_data(ct) for ct in page.items]))
