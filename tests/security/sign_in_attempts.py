"""Run as its own process by test_sign_in_throttle.py: sign-in attempts through the real sign-in
page, against whatever database DATABASE_URL names. Prints one JSON line with the status codes.

    python tests/security/sign_in_attempts.py create-user USERNAME PASSWORD
    python tests/security/sign_in_attempts.py attempt USERNAME PASSWORD COUNT REMOTE_ADDR
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resolution_center.settings.test")


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    command, username, password = argv[:3]
    if command == "create-user":
        get_user_model().objects.create_user(username=username, email=username, password=password)
        print(json.dumps({"created": username}))
        return
    count, address = int(argv[3]), argv[4]
    codes = []
    for _ in range(count):
        # A fresh client each time: no cookie ties the attempts together, only the database does.
        response = Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})
        codes.append(response.status_code)
    print(json.dumps({"codes": codes}))


if __name__ == "__main__":
    main(sys.argv[1:])
