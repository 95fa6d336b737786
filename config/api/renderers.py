from rest_framework.renderers import JSONRenderer

from config.api.jsonutil import ExactDecimalEncoder


class ExactJSONRenderer(JSONRenderer):
    encoder_class = ExactDecimalEncoder
