"""What runs Channel Hub on one machine, apart from the hub itself: ``make demo``, ``make up``,
the Tryton demo, and the local servers they and the tests start on 127.0.0.1 (SFTP, SMTP,
a partner ERP, a webshop, Tryton, PostgreSQL scratch databases, Airflow's processes).

Not part of the hub that production installs: the ``channelhub`` package never imports it,
the wheel leaves it out, and the Airflow image excludes it (``.dockerignore``). Its servers
need the development requirements (asyncssh, aiosmtpd, trytond).
"""
