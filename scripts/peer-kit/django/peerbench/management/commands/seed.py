"""Seeds users u0..u(N-1), each with a confirmed TOTP device with a known key,
and writes the codes of the next steps in the format verify.lua reads:

    <first step> <steps>
    <user> - <code of step 0> <code of step 1> ...

(the "-" stands where the mfa side has a session cookie).
"""
import hashlib
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

BATCH = 5000


def key_of(n):
    return hashlib.sha1(b"peer-bench-%d" % n).hexdigest()


class Command(BaseCommand):
    help = "Seed users with TOTP devices and write their codes."

    def add_arguments(self, parser):
        parser.add_argument("users", type=int)
        parser.add_argument("codes")
        parser.add_argument("--steps", type=int, default=20)
        parser.add_argument("--codes-only", action="store_true")

    def handle(self, users, codes, steps, codes_only, **options):
        User = get_user_model()
        if not codes_only:
            with transaction.atomic():
                made = User.objects.bulk_create(
                    (User(username="u%d" % n, password="!") for n in range(users)),
                    batch_size=BATCH,
                )
                TOTPDevice.objects.bulk_create(
                    (
                        TOTPDevice(id=u.pk, user_id=u.pk, name="Phone", confirmed=True, key=key_of(n))
                        for n, u in enumerate(made)
                    ),
                    batch_size=BATCH,
                )
            self.stdout.write("seeded %d users" % users)
        first = int(time.time()) // 30
        with open(codes, "w") as out:
            out.write("%d %d\n" % (first, steps))
            for n in range(users):
                totp = TOTP(bytes.fromhex(key_of(n)))
                row = []
                for step in range(first, first + steps):
                    totp.time = step * 30
                    row.append("%06d" % totp.token())
                out.write("u%d - %s\n" % (n, " ".join(row)))
