"""Creates the demo users (one Admin, one Finance) if absent, with generated passwords."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from syncapp.core.roles import ADMIN, FINANCE

DEMO_USERS = [("admin", ADMIN), ("finance", FINANCE)]


class Command(BaseCommand):
    help = "Create the demo Admin and Finance users if they do not exist; print their passwords."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Give existing demo users new passwords.")

    def handle(self, *args, reset: bool = False, **options):
        User = get_user_model()
        for username, role in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user and not reset:
                self.stdout.write(f"  {username:8} ({role}): exists; `make users-reset` prints a new password")
                continue
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_user(username=username)
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            self.stdout.write(f"  {username:8} ({role}): password {password}")
