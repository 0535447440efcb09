"""The kit's own test app, served by the server's tests in place of the user's app."""
