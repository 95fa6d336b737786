from rest_framework.renderers import JSONRenderer

from config.core.jsonutil import ExactDecimalEncoder


class ExactJSONRenderer(JSONRenderer):
    encoder_class = ExactDecimalEncoder
