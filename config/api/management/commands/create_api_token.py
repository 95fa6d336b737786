from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.api.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (alone, on the last line). Shown once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--create-user", action="store_true", help="Create the user if missing")
        parser.add_argument(
            "--all-permissions", action="store_true", help="Make the user a superuser"
        )
        parser.add_argument(
            "--permission",
            action="append",
            default=[],
            metavar="APP_LABEL.CODENAME",
            help="Grant this Django permission to the user (repeatable)",
        )
        parser.add_argument("--name", default="", help="A label to tell tokens apart")

    @transaction.atomic
    def handle(self, *args, username, create_user, all_permissions, permission, name, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create_user:
                raise CommandError(f"No user {username!r}; pass --create-user to create one")
            user = User.objects.create_user(username=username)
            user.set_unusable_password()
            user.save()
        if all_permissions:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        for dotted in permission:
            app_label, _, codename = dotted.partition(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:
                raise CommandError(f"Unknown permission {dotted!r}")
            user.user_permissions.add(perm)
        _, raw = api_token_create(user=user, name=name)
        self.stderr.write(f"API token for {username} (store it now; it is not shown again):")
        self.stdout.write(raw)
