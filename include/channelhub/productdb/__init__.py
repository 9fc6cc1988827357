"""The product database: tables per tenant project, and the hook that connects to it."""
