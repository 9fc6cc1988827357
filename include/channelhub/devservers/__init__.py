"""Real local servers for the demo and the tests: an SFTP server and an SMTP server.

They need the development requirements (asyncssh, aiosmtpd) and listen on 127.0.0.1.
"""
