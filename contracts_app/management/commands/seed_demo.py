from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Build the demo world (seed 002: Starter Plan v1/v2 and a few hundred customers). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Only when no package exists yet"
        )

    def handle(self, *args, if_empty, **options):
        # Filled in with the provisioning work (issue 4); a no-op until then.
        return
