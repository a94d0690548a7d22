"""The audit's checks, one module each. What each claims, how it checks it and the invariant it
proves are declared once, in privseg.audit.registry; each module holds the check itself, as a
`run(audit) -> findings` function over an AuditRun, and the pure functions behind it."""
