import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "On a database with no users, create the administrator from ADMIN_USERNAME / ADMIN_PASSWORD "
        "/ ADMIN_EMAIL (defaults: admin / a generated password) and print how to log in."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("ADMIN_USERNAME", "admin")
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        email = os.environ.get("ADMIN_EMAIL", "admin@example.com")
        User.objects.create_superuser(username=username, email=email, password=password)
        credentials = settings.VAR_DIR / "admin-credentials.txt"
        if not os.environ.get("ADMIN_PASSWORD"):
            credentials.parent.mkdir(parents=True, exist_ok=True)
            credentials.write_text(f"username: {username}\npassword: {password}\n")
            credentials.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created administrator {username!r} with password {password!r} "
                f"(also kept in {credentials} when generated)."
            )
        )
