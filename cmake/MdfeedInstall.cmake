# Installed later by the operations work; kept separate so the build stays readable.
