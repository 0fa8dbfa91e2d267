"""`rackpanel deploy`: provisioning the Raspberry Pis over SSH (plan, apply, check, rolling
restarts), from the inventory."""
