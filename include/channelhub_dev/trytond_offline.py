"""``trytond`` for the tests and the demo, on a machine that cannot resolve DNS.

Tryton checks that a customer's email address is deliverable (an MX look-up in DNS) before
it stores it. These machines reach no DNS, so every address would be refused; this is the
one part of Tryton replaced here: addresses are checked for syntax only (email_validator
without the deliverability look-up). Everything else is the real ``trytond`` server.

``python -m channelhub_dev.trytond_offline -c trytond.conf -d DATABASE``
"""

from __future__ import annotations

import sys

from email_validator import validate_email as _validate_email
from trytond.tools import email_


def _syntax_only(email: str) -> str:
    return _validate_email(email, check_deliverability=False).normalized


if __name__ == "__main__":
    email_.validate_email = _syntax_only  # before the party module imports it by name
    from trytond.cli import main

    sys.exit(main())
