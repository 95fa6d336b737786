from rest_framework.permissions import BasePermission


class HasRequiredPermission(BasePermission):
    """Authenticated, and holding the Django permission the view names in `required_permission`.

    A view that names none needs only authentication; `required_permission` may also be a
    mapping from HTTP method to permission.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        required = getattr(view, "required_permission", None)
        if isinstance(required, dict):
            required = required.get(request.method)
        return required is None or user.has_perm(required)
